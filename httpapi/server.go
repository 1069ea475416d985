// Package httpapi serves kakeru's HTTP API (docs/ui-guide.md): health checks, status, configuration views
// and the batch resources, with bearer-token roles.
package httpapi

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/kakeru-dialer/kakeru/config"
	"github.com/kakeru-dialer/kakeru/freeswitch"
	"github.com/kakeru-dialer/kakeru/store"
)

// ConfigSource yields the configuration in force; it changes on SIGHUP.
type ConfigSource interface {
	Current() *config.Config
}

// BatchStore is the data the batch endpoints need.
type BatchStore interface {
	CreateBatch(ctx context.Context, nb store.NewBatch, now time.Time) (store.Batch, error)
	GetBatch(ctx context.Context, id int64) (store.Batch, error)
	ListBatches(ctx context.Context, f store.BatchFilter) ([]store.Batch, int, error)
	UpdateBatch(ctx context.Context, id int64, p store.BatchPatch, now time.Time) (store.Batch, error)
	DeleteBatch(ctx context.Context, id int64, by string, now time.Time) (recordings []string, err error)
	SetBatchDialGroups(ctx context.Context, id int64, groupIDs []int, now time.Time) (store.Batch, error)
	BatchDeletions(ctx context.Context, campaignIDs []int) ([]store.BatchDeletion, error)
}

// ListStore is the data the customer-list, assignment and contact endpoints need.
type ListStore interface {
	ImportCSV(ctx context.Context, in store.ImportInput, file io.ReadSeeker, errCSV io.Writer, now time.Time) (store.CustomerList, error)
	SaveErrorFile(ctx context.Context, f store.ErrorFile) (store.ErrorFile, error)
	GetErrorFile(ctx context.Context, id string, now time.Time) (store.ErrorFile, error)
	GetList(ctx context.Context, id int64) (store.CustomerList, error)
	ListLists(ctx context.Context, batchID int64) ([]store.CustomerList, error)
	DeleteList(ctx context.Context, id int64) error
	CreateAssignment(ctx context.Context, na store.NewAssignment, now time.Time) (store.Assignment, error)
	ListAssignments(ctx context.Context, batchID int64) ([]store.Assignment, error)
	GetAssignment(ctx context.Context, id int64) (store.Assignment, error)
	DeleteAssignment(ctx context.Context, id int64, now time.Time) error
	SearchContacts(ctx context.Context, f store.ContactFilter) ([]store.Contact, int, error)
	GetContact(ctx context.Context, id int64) (store.Contact, error)
	ContactAttempts(ctx context.Context, contactID int64) ([]store.Attempt, error)
}

// Check is one dependency probed by /readyz.
type Check struct {
	Name string // e.g. "postgres", "redis", "freeswitch:fs1"
	// Group makes the dependency satisfied when any member answers (FreeSWITCH nodes: at least
	// one must answer). Empty: this check alone must pass.
	Group string
	Probe func(ctx context.Context) error
}

// Options wires a Server.
type Options struct {
	Logger    *slog.Logger
	Config    ConfigSource
	Batches   BatchStore
	Lists     ListStore
	Jobs      JobStore
	Callbacks CallbackStore
	Reports   ReportStore
	Desk      AgentDesk
	// DoNotCall serves the do-not-call lists (N-1); nil: their routes answer 404.
	DoNotCall DoNotCallStore
	Now       func() time.Time
	Checks    []Check
	// Status fills /api/v1/status.
	Status func(ctx context.Context) (Status, error)
	// Live monitoring (S-1): the event stream, the job monitor's data, supervision legs.
	Events     EventSource
	Monitor    MonitorStore
	Supervisor Supervisor
	// Heartbeat is the interval of comment lines on idle event streams; 15 s when zero.
	Heartbeat time.Duration
	// HeavyRequests is how many heavy requests (list uploads, report exports, searches) run at
	// once (an upload takes them all); 0: half the CPUs, at least one.
	HeavyRequests int
	// UploadBytesPerSecond bounds how fast the instance's list uploads together are read off
	// the network (0: unlimited).
	UploadBytesPerSecond int64
	// BodyTimeout bounds the reading of a request's body from the end of its headers (5 min
	// when zero): a client that trickles a body holds its connection no longer.
	BodyTimeout time.Duration
	NewUUID     func() string
	// Metrics, when set, serves GET /metrics, without a token like the health checks.
	Metrics http.Handler
}

// Server routes and answers API requests.
type Server struct {
	log       *slog.Logger
	probes    probeLog // readiness failures, logged when they change
	cfg       ConfigSource
	batches   BatchStore
	lists     ListStore
	jobs      JobStore
	callbacks CallbackStore
	reports   ReportStore
	dnc       DoNotCallStore
	desk      AgentDesk
	now       func() time.Time
	checks    []Check
	status    func(ctx context.Context) (Status, error)
	mux       *routeMux

	events      EventSource
	monitor     MonitorStore
	supervisor  Supervisor
	heartbeat   time.Duration
	bodyTimeout time.Duration
	limiter     *heavyLimiter
	uploadRate  *byteRate
	newUUID     func() string
	uploadDir   string // http.upload_dir, read once: the http section needs a restart
	// recordingsDir is freeswitch.recordings.directory, read once (the section needs a restart).
	recordingsDir string
	closing       chan struct{} // closed at shutdown: event streams end
	closeOnce     sync.Once
}

// New builds the server and its routes; it touches nothing outside itself (the owner calls
// CleanUploadDir at start).
func New(o Options) *Server {
	s := &Server{log: o.Logger, cfg: o.Config, batches: o.Batches, lists: o.Lists, jobs: o.Jobs, callbacks: o.Callbacks, desk: o.Desk, now: o.Now, checks: o.Checks, status: o.Status,
		mux: &routeMux{ServeMux: http.NewServeMux()}, events: o.Events, monitor: o.Monitor, supervisor: o.Supervisor, heartbeat: o.Heartbeat,
		newUUID: o.NewUUID, closing: make(chan struct{})}
	s.limiter = newHeavyLimiter(o.HeavyRequests)
	s.uploadRate = newByteRate(o.UploadBytesPerSecond)
	s.bodyTimeout = o.BodyTimeout
	if s.bodyTimeout <= 0 {
		s.bodyTimeout = 5 * time.Minute
	}
	if s.heartbeat <= 0 {
		s.heartbeat = 15 * time.Second
	}
	if s.newUUID == nil {
		s.newUUID = freeswitch.NewUUID
	}
	s.reports = o.Reports
	s.dnc = o.DoNotCall
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if s.now == nil {
		s.now = time.Now
	}
	s.uploadDir = config.DefaultUploadDir()
	if o.Config != nil {
		if dir := o.Config.Current().HTTP.UploadDir; dir != "" {
			s.uploadDir = dir
		}
		s.recordingsDir = o.Config.Current().FreeSWITCH.Recordings.Directory
	}
	s.routes()
	if o.Metrics != nil {
		s.mux.Handle("GET /metrics", o.Metrics)
	}
	return s
}

// Handler is the root handler with request logging.
func (s *Server) Handler() http.Handler { return s.logRequests(s.mux) }

func (s *Server) routes() {
	s.mux.HandleFunc("GET /healthz", s.handleHealthz)
	s.mux.HandleFunc("GET /readyz", s.handleReadyz)
	s.mux.HandleFunc("GET /api/v1/openapi.json", s.handleOpenAPI) // no token: it describes the API, not data

	allowed := map[string][]string{} // path → methods, for JSON 405 answers
	var paths []string
	api := func(pattern string, h func(http.ResponseWriter, *http.Request) error) {
		method, path, _ := strings.Cut(pattern, " ")
		if _, seen := allowed[path]; !seen {
			paths = append(paths, path)
		}
		allowed[path] = append(allowed[path], method)
		s.mux.Handle(pattern, s.authenticate(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if err := h(w, r); err != nil {
				s.writeError(w, r, err)
			}
		})))
	}
	api("GET /api/v1/status", s.handleStatus)

	api("GET /api/v1/campaigns", s.handleListCampaigns)
	api("GET /api/v1/campaigns/{id}", s.handleGetCampaign)
	api("GET /api/v1/dial-groups", s.handleListDialGroups)
	api("GET /api/v1/agents", s.handleListAgents)

	api("POST /api/v1/batches", s.handleCreateBatch)
	api("GET /api/v1/batches", s.handleListBatches)
	api("GET /api/v1/batches/{id}", s.handleGetBatch)
	api("PATCH /api/v1/batches/{id}", s.handlePatchBatch)
	api("DELETE /api/v1/batches/{id}", s.handleDeleteBatch)
	api("PUT /api/v1/batches/{id}/dial-groups", s.handleSetBatchDialGroups)
	api("GET /api/v1/batch-deletions", s.handleListBatchDeletions)

	api("POST /api/v1/batches/{id}/lists", s.handleImportList) // heavy once spooled
	api("GET /api/v1/batches/{id}/lists", s.handleListLists)
	api("GET /api/v1/lists/{id}", s.handleGetList)
	api("DELETE /api/v1/lists/{id}", s.handleDeleteList)
	api("GET /api/v1/import-errors/{id}", s.handleGetErrorFile)
	api("POST /api/v1/batches/{id}/assignments", s.handleCreateAssignment)
	api("GET /api/v1/batches/{id}/assignments", s.handleListAssignments)
	api("DELETE /api/v1/assignments/{id}", s.handleDeleteAssignment)
	api("GET /api/v1/contacts", s.heavy(1, s.handleSearchContacts))
	api("GET /api/v1/contacts/{id}/attempts", s.handleContactAttempts)

	api("POST /api/v1/batches/{id}/call-jobs", s.handleCreateCallJob)
	api("GET /api/v1/call-jobs", s.handleListCallJobs)
	api("GET /api/v1/call-jobs/{id}", s.handleGetCallJob)
	api("PATCH /api/v1/call-jobs/{id}", s.handlePatchCallJob)
	api("DELETE /api/v1/call-jobs/{id}", s.handleDeleteCallJob)
	api("POST /api/v1/call-jobs/{id}/start", s.handleStartCallJob)
	api("POST /api/v1/call-jobs/{id}/stop", s.handleStopCallJob)

	api("POST /api/v1/agents/{id}/join", s.handleJoin)
	api("POST /api/v1/agents/{id}/leave", s.handleLeave)
	api("POST /api/v1/agents/{id}/state", s.handleSetState)
	api("POST /api/v1/agents/{id}/hangup-customer", s.handleHangupCustomer)
	api("GET /api/v1/agents/{id}/session", s.handleSession)
	api("GET /api/v1/agents/{id}/call-jobs", s.handleJoinableJobs)
	api("POST /api/v1/agents/{id}/record", s.handleRecordCall)
	api("DELETE /api/v1/agents/{id}/record", s.handleStopRecording)
	// Issue 16: the agent's desk (preview, manual dial, hold, transfer, conference).
	api("POST /api/v1/agents/{id}/preview/dial", s.handlePreviewDial)
	api("POST /api/v1/agents/{id}/preview/skip", s.handlePreviewSkip)
	api("POST /api/v1/agents/{id}/dial", s.handleManualDial)
	api("POST /api/v1/agents/{id}/hold", s.handleHold)
	api("DELETE /api/v1/agents/{id}/hold", s.handleUnhold)
	api("POST /api/v1/agents/{id}/transfer", s.handleTransfer)
	api("DELETE /api/v1/agents/{id}/transfer", s.handleConsultCancel)
	api("POST /api/v1/agents/{id}/transfer/swap", s.handleConsultSwap)
	api("POST /api/v1/agents/{id}/transfer/complete", s.handleConsultComplete)
	api("POST /api/v1/agents/{id}/conference", s.handleConference)
	api("DELETE /api/v1/agents/{id}/conference", s.handleConferenceEnd)
	api("POST /api/v1/attempts/{id}/disposition", s.handleSaveDisposition)
	api("GET /api/v1/attempts/{id}/recording", s.handleGetRecording) // HEAD too
	api("GET /api/v1/unsaved-dispositions", s.heavy(1, s.handleUnsavedDispositions))
	api("GET /api/v1/callbacks", s.handleListCallbacks)
	api("PATCH /api/v1/callbacks/{id}", s.handlePatchCallback)
	api("DELETE /api/v1/callbacks/{id}", s.handleDeleteCallback)
	api("GET /api/v1/reports/summary", s.heavy(1, s.handleReportSummary))
	api("GET /api/v1/reports/results.csv", s.heavy(1, s.handleReportResults))

	// N-1: do-not-call lists; {list} is "global" or a campaign id.
	api("GET /api/v1/do-not-call/{list}/numbers", s.heavy(1, s.handleListDNC))
	api("POST /api/v1/do-not-call/{list}/numbers", s.handleAddDNC)
	api("DELETE /api/v1/do-not-call/{list}/numbers/{tel}", s.handleRemoveDNC)
	api("GET /api/v1/do-not-call/{list}/numbers.csv", s.heavy(1, s.handleExportDNC))
	api("POST /api/v1/do-not-call/{list}/imports", s.handleImportDNC) // heavy once spooled
	api("GET /api/v1/do-not-call/{list}/removals", s.handleDNCRemovals)

	api("GET /api/v1/events", s.handleEvents) // S-1: live monitoring
	api("GET /api/v1/call-jobs/{id}/monitor", s.handleMonitor)
	api("POST /api/v1/agents/{id}/listen", s.handleListen)
	api("POST /api/v1/agents/{id}/whisper", s.handleWhisper)
	s.mux.HandleFunc("GET /monitor", s.handleMonitorPage)

	// A method-less pattern is less specific than the method ones, so it catches only the
	// methods a path does not serve and answers them in the API's JSON error format. These
	// catch-alls bypass the route record (Routes): they are not routes of the document.
	for _, path := range paths {
		methods := strings.Join(allowed[path], ", ")
		s.mux.ServeMux.HandleFunc(path, func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Allow", methods)
			s.writeError(w, r, errorf(http.StatusMethodNotAllowed, "method_not_allowed", "%s %s: use %s", r.Method, path, methods))
		})
	}
	s.mux.ServeMux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		s.writeError(w, r, errorf(http.StatusNotFound, "not_found", "no route %s %s", r.Method, r.URL.Path))
	})
}

type statusRecorder struct {
	http.ResponseWriter
	status int
}

// Unwrap lets http.ResponseController reach the connection (event streams flush per event).
func (r *statusRecorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }

func (r *statusRecorder) WriteHeader(code int) {
	r.status = code
	r.ResponseWriter.WriteHeader(code)
}

func (s *Server) logRequests(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		if r.ContentLength != 0 { // a body, announced or chunked
			_ = http.NewResponseController(w).SetReadDeadline(start.Add(s.bodyTimeout))
		}
		rec := &statusRecorder{ResponseWriter: w, status: http.StatusOK}
		next.ServeHTTP(rec, r)
		level := slog.LevelDebug
		if rec.status >= 500 {
			level = slog.LevelWarn
		}
		s.log.Log(r.Context(), level, "http", "method", r.Method, "path", r.URL.Path, "status", rec.status,
			"duration", time.Since(start).Round(time.Microsecond))
	})
}
