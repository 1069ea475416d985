package engine_test

import (
	"context"
	"slices"
	"sync"
	"time"

	"github.com/kakeru-dialer/kakeru/domain"
	"github.com/kakeru-dialer/kakeru/engine"
	"github.com/kakeru-dialer/kakeru/store"
)

// memStore is an in-memory stand-in for the PostgreSQL store (store.Store), with the methods the
// engine uses (engine.Store) doing what their SQL in store/ does:
//   - call jobs with runs (StartJob opens one, J-3's target fixed then) and leases, one holder
//     at a time, lost when the test says so (LoseLease);
//   - contacts claimed per job run and held until their attempt ends, so none is dialed twice
//     at once (J-4, P-5), due callbacks first (S-2: one promised by an agent only for that
//     agent, tied to it, during the grace), then fresh ones by fewest attempts then id, retries
//     once due; the number dialed is the other number a disposition asked for, else the list's
//     (D-1); the attempt row, with the channel UUID of the originate, written with the claim;
//   - attempts finished once (the first ending wins) with the retry rules of P-3, given back
//     after a failure of our own, marked answered, bridged and agent-dropped, listed unfinished
//     for a takeover, counted per run (S-1) and read back for pacing (P-2 buckets, P-4 dials).
//
// Not modelled, as the engine does not rely on them: batches and lists beyond the ids a job
// names, job filters (J-2), the disposition rows (only when one was saved, for RecentDials'
// wrap-up, and its effect on the contact and its callback, D-2).
//
// Stall makes every call block as a locked or unreachable database does. Every method is safe
// for concurrent use; changed hears every write, so tests can wait on them.
type memStore struct {
	mu       sync.Mutex
	jobs     map[int64]*store.CallJob
	contacts []*memContact // in id order
	attempts []*memAttempt // in id order
	buckets  map[int]map[time.Time]*store.AnswerBucket
	leases   map[int64]int64 // job → the token of the lease held
	nextID   int64           // the last id or lease token given
	stall    chan struct{}   // closed when a stall ends; nil: no stall
	stalled  int             // calls blocked by the stall now
	changed  func()

	callbacks []*memCallback  // in id order (S-2)
	dnc       map[string]bool // numbers on a do-not-call list (N-1)
}

// memContact is a contacts row: its status, retry schedule and claim.
type memContact struct {
	id, listID int64
	tel        string
	status     string // eligible | callback | complete
	attempts   int    // attempt_count
	next, last *time.Time
	claimedBy  int64 // call job, 0: not claimed
	claimRun   int   // claim_token: the run that claimed it

	redialTel string // the other number a disposition asked to dial (D-1); "": tel

	name, kana, remarks string // the contact card (screen-pop)
}

// memCallback is a callbacks row (S-2).
type memCallback struct {
	id, contactID int64
	agent         int // who promised it; 0: nobody (an admin saved it)
	due           time.Time
	status        string // scheduled | dialed | cancelled
	attemptID     int64  // the attempt that scheduled it, then the one that dials it
}

// memAttempt is an attempts row. Its time pointers are replaced, never written through, so a
// copy handed to a test does not change under it.
type memAttempt struct {
	ID, BatchID, JobID int64
	ContactID          int64 // 0: none
	CampaignID, Run    int
	Tel, CallerID      string
	ChannelUUID        string
	Node, Instance     string
	StartedAt          time.Time
	AnsweredAt         *time.Time
	BridgedAt          *time.Time
	EndedAt            *time.Time
	Outcome            domain.Outcome // in_progress until it ends
	HangupCause        string
	AgentID            *int
	AgentDropped       bool
	TalkSeconds        *int
	DispositionDueAt   *time.Time // D-3: a connected call's disposition becomes unsaved then
	DisposedAt         *time.Time // when a disposition was saved (the harness's Dispose)
	Analysis           *store.AnswerVerdict
	RecordingPath      string
	RecordingStartedAt *time.Time
	RecordingLength    *time.Duration
	RecordingBytes     int64
	Kind               domain.DialKind // "" : paced
	DialedAt           *time.Time      // a preview's dial
	SkipReason         string
	RequestedBy        string
	Steps              []store.AttemptStep
	prior              *memContact

	priorCallback int64 // the attempt its callback row named before the claim (given back)
}

func newMemStore() *memStore {
	return &memStore{jobs: map[int64]*store.CallJob{}, buckets: map[int]map[time.Time]*store.AnswerBucket{},
		leases: map[int64]int64{}, changed: func() {}}
}

var _ engine.Store = (*memStore)(nil)

// enter waits out a stall; a call whose context ends first fails with its error, as a query
// lib/pq cancels does. It returns with s.mu held.
func (s *memStore) enter(ctx context.Context) error {
	s.mu.Lock()
	for s.stall != nil {
		stall := s.stall
		s.stalled++
		s.mu.Unlock()
		s.changed()
		var err error
		select {
		case <-stall:
		case <-ctx.Done():
			err = ctx.Err()
		}
		s.mu.Lock()
		s.stalled--
		if err != nil {
			s.mu.Unlock()
			return err
		}
	}
	return nil
}

// leave unlocks and tells the waiters that something may have changed.
func (s *memStore) leave() {
	s.mu.Unlock()
	s.changed()
}

// Stall blocks every call until release runs (P-2 with the database held: the engine must
// bridge and abandon without it).
func (s *memStore) Stall() (release func()) {
	s.mu.Lock()
	stall := make(chan struct{})
	s.stall = stall
	s.mu.Unlock()
	var once sync.Once
	return func() {
		once.Do(func() {
			s.mu.Lock()
			s.stall = nil
			s.mu.Unlock()
			close(stall)
			s.changed()
		})
	}
}

// Stalled is how many calls a stall is holding now.
func (s *memStore) Stalled() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.stalled
}

// AddJob writes a stopped call job (run 0) of the campaign over a list of the numbers, each
// an eligible contact never dialed.
func (s *memStore) AddJob(campaign int, timeZone, callerID string, tels ...string) int64 {
	s.mu.Lock()
	defer s.leave()
	s.nextID++
	id := s.nextID
	for _, tel := range tels {
		s.nextID++
		s.contacts = append(s.contacts, &memContact{id: s.nextID, listID: id, tel: tel, status: "eligible",
			name: "Customer " + tel, kana: "カスタマー", remarks: "remarks of " + tel})
	}
	// The job, its batch and its list share the id: one list per job is all the engine needs.
	s.jobs[id] = &store.CallJob{ID: id, BatchID: id, CampaignID: campaign, TimeZone: timeZone, Name: "job", ListID: id,
		ListName: "list", DialGroupID: 1, CallerID: callerID, Filter: store.JobFilter{PhoneType: "any"},
		Status: "stopped", AssignedCount: len(tels)}
	return id
}

// StartJob starts a stopped job as StartCallJob does once J-5 allows it: a new run whose target
// is the contacts eligible now (J-3).
func (s *memStore) StartJob(id int64, now time.Time) store.CallJob {
	s.mu.Lock()
	defer s.leave()
	j := s.jobs[id]
	j.Status, j.Run, j.TargetCount = "running", j.Run+1, 0
	j.StartedAt, j.StoppedAt, j.StopReason, j.UpdatedAt = &now, nil, nil, now
	for _, c := range s.contacts {
		if s.eligible(j, c, now) {
			j.TargetCount++
		}
	}
	return s.jobRow(j)
}

// LoseLease takes the job's lease from its holder, as PostgreSQL does when the holder's
// connection dies: its next check fails and another instance may lease the job.
func (s *memStore) LoseLease(id int64) {
	s.mu.Lock()
	defer s.leave()
	delete(s.leases, id)
}

// Dispose saves a disposition of a connected attempt as SaveDisposition does for the contact
// (D-2): continue leaves it eligible (for later runs), callback and complete take it out of
// dialing. False when the attempt is not connected.
func (s *memStore) Dispose(attemptID int64, nextAction string, now time.Time) bool {
	return s.DisposeAs(attemptID, memDisposition{NextAction: nextAction}, now)
}

// memDisposition is what DisposeAs saves: the next action, the other number, the callback time.
type memDisposition struct {
	NextAction string
	OtherTel   string
	CallbackAt time.Time
}

// DisposeAs is Dispose with the other number (dialed next, D-1) and a callback time: the
// contact's scheduled callback is replaced by one promised by the attempt's agent (S-2).
func (s *memStore) DisposeAs(attemptID int64, d memDisposition, now time.Time) bool {
	s.mu.Lock()
	defer s.leave()
	a := s.attempt(attemptID)
	if a == nil || a.Outcome != "connected" || a.DisposedAt != nil {
		return false
	}
	a.DisposedAt = &now
	c := s.contact(a.ContactID)
	if c == nil {
		return true
	}
	c.status = map[string]string{"continue": "eligible", "callback": "callback", "complete": "complete"}[d.NextAction]
	c.next, c.redialTel = nil, d.OtherTel
	for _, cb := range s.callbacks {
		if cb.contactID == c.id && cb.status == "scheduled" {
			cb.status = "cancelled"
		}
	}
	if d.NextAction == "callback" {
		agent := 0
		if a.AgentID != nil {
			agent = *a.AgentID
		}
		s.nextID++
		s.callbacks = append(s.callbacks, &memCallback{id: s.nextID, contactID: c.id, agent: agent, due: d.CallbackAt,
			status: "scheduled", attemptID: a.ID})
	}
	return true
}

// AddContacts adds eligible contacts never dialed to the job's list.
func (s *memStore) AddContacts(job int64, tels ...string) {
	s.mu.Lock()
	defer s.leave()
	for _, tel := range tels {
		s.nextID++
		s.contacts = append(s.contacts, &memContact{id: s.nextID, listID: s.jobs[job].ListID, tel: tel, status: "eligible"})
	}
}

// AddCallback schedules a callback to the contact of the number, promised by the agent (0:
// nobody), as a disposition does (S-2).
func (s *memStore) AddCallback(tel string, agent int, due time.Time) {
	s.mu.Lock()
	defer s.leave()
	for _, c := range s.contacts {
		if c.tel == tel {
			c.status, c.next = "callback", nil
			s.nextID++
			s.callbacks = append(s.callbacks, &memCallback{id: s.nextID, contactID: c.id, agent: agent, due: due, status: "scheduled"})
		}
	}
}

// Attempts are the attempts to a number, oldest first.
func (s *memStore) Attempts(tel string) []memAttempt {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []memAttempt
	for _, a := range s.attempts {
		if a.Tel == tel {
			out = append(out, *a)
		}
	}
	return out
}

// Attempt is the attempt with the id, if there is one.
func (s *memStore) Attempt(id int64) (memAttempt, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if a := s.attempt(id); a != nil {
		return *a, true
	}
	return memAttempt{}, false
}

// Outcome is the outcome of the latest attempt to a number, "" before any.
func (s *memStore) Outcome(tel string) domain.Outcome {
	all := s.Attempts(tel)
	if len(all) == 0 {
		return ""
	}
	return all[len(all)-1].Outcome
}

// Job is the job's row as GetCallJob reads it.
func (s *memStore) Job(id int64) store.CallJob {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.jobRow(s.jobs[id])
}

// jobRow copies a job with its remaining count (J-3). Caller holds s.mu.
func (s *memStore) jobRow(j *store.CallJob) store.CallJob {
	row := *j
	dialed := map[int64]bool{}
	for _, a := range s.attempts {
		if a.JobID == j.ID && a.Run == j.Run && j.Run > 0 && a.ContactID != 0 {
			dialed[a.ContactID] = true
		}
	}
	row.RemainingCount = max(j.TargetCount-len(dialed), 0)
	return row
}

// eligible is eligibleQuery without the filter: in the job's list, eligible, not claimed, and
// either not dialed yet in this run or due for a retry. Caller holds s.mu.
func (s *memStore) eligible(j *store.CallJob, c *memContact, now time.Time) bool {
	if c.listID != j.ListID || c.status != "eligible" || c.claimedBy != 0 {
		return false
	}
	// J-4: a number another running job called in its current run stays with that job.
	if slices.ContainsFunc(s.attempts, func(a *memAttempt) bool {
		o := s.jobs[a.JobID]
		return a.ContactID == c.id && a.JobID != j.ID && o != nil && o.Status == "running" && a.Run == o.Run
	}) {
		return false
	}
	if c.next != nil {
		return !c.next.After(now)
	}
	return !slices.ContainsFunc(s.attempts, func(a *memAttempt) bool {
		return a.ContactID == c.id && a.JobID == j.ID && a.Run == j.Run
	})
}

func (s *memStore) attempt(id int64) *memAttempt {
	for _, a := range s.attempts {
		if a.ID == id {
			return a
		}
	}
	return nil
}

func (s *memStore) attemptByUUID(uuid string) *memAttempt {
	for _, a := range s.attempts {
		if a.ChannelUUID == uuid {
			return a
		}
	}
	return nil
}

func (s *memStore) contact(id int64) *memContact {
	for _, c := range s.contacts {
		if c.id == id {
			return c
		}
	}
	return nil
}
