package domain

// JobStatus is whether a call job dials (J-5, J-6), as the API, the job_state live events and the
// database spell it.
type JobStatus string

// The statuses of a call job.
const (
	JobStopped JobStatus = "stopped" // created, or stopped by an admin, at business end or by itself
	JobRunning JobStatus = "running" // started: its owner dials for it
)

// JobStatuses lists every status in the API's order. The slice is new on each call.
func JobStatuses() []JobStatus { return []JobStatus{JobStopped, JobRunning} }

// Valid reports whether s is one of JobStatuses.
func (s JobStatus) Valid() bool { return s == JobStopped || s == JobRunning }
