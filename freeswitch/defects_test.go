package freeswitch_test

// One test per defect of eslgo v1.4.1 listed in docs/event-socket.md §1, each run against the simulated
// switch over TCP; each fails if the wrapper's fix is taken away.

import (
	"context"
	"errors"
	"go/ast"
	"go/parser"
	"go/token"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kakeru-dialer/kakeru/freeswitch"
	"github.com/kakeru-dialer/kakeru/freeswitch/fsim"
	"github.com/kakeru-dialer/kakeru/freeswitch/fsim/fsimtest"
	"github.com/kakeru-dialer/kakeru/freeswitch/wire"
)

func simConn(t testing.TB, s *fsim.Server, events func(context.Context, *wire.Event) error) *freeswitch.Conn {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c, err := freeswitch.Dial(ctx, s.Addr(), "ClueCon", freeswitch.EngineEvents(), events)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func originateCmd(t testing.TB, tel string) (string, string) {
	t.Helper()
	id := freeswitch.NewUUID()
	cmd, err := freeswitch.OriginateCmd(freeswitch.Originate{UUID: id, DialString: "sofia/gateway/main/" + tel, App: "&park()",
		Vars: []freeswitch.Var{{Name: "ignore_early_media", Value: "true"}, {Name: "originate_timeout", Value: "25"}}})
	if err != nil {
		t.Fatal(err)
	}
	return id, cmd
}

// orderCheck records each call's Event-Sequence numbers as the handler sees them.
type orderCheck struct {
	mu    sync.Mutex
	last  map[string]int
	bad   []string
	count int
	want  int
	done  chan struct{}
}

func newOrderCheck(want int) *orderCheck {
	return &orderCheck{last: map[string]int{}, want: want, done: make(chan struct{})}
}

func (o *orderCheck) handle(e *wire.Event) {
	seq, _ := strconv.Atoi(e.Header.Get("Event-Sequence"))
	key := freeswitch.CallKey(e)
	o.mu.Lock()
	defer o.mu.Unlock()
	if seq <= o.last[key] {
		o.bad = append(o.bad, key+" "+e.Name())
	}
	o.last[key] = seq
	o.count++
	if o.count == o.want {
		close(o.done)
	}
}

// Defect: every listener call runs in its own goroutine, so one call's events arrive out of
// order. Fix: one reader, a dispatcher sharded by call. 10,500 events of 1,500 interleaved
// calls reach the handler with every call's events in the switch's order.
func TestDefectEventsOutOfOrder(t *testing.T) {
	const calls, perCall = 1500, 7 // CREATE PROGRESS ANSWER PARK HANGUP HANGUP_COMPLETE DESTROY
	clock := fsim.NewVirtualClock(time.Unix(1_800_000_000, 0))
	s := fsimtest.Start(t, fsim.Options{Clock: clock, Heartbeat: -1,
		Script: fsim.Answering(2*time.Second, 5*time.Second)})
	check := newOrderCheck(calls * perCall)
	d := freeswitch.NewDispatcher(8, 256, check.handle)
	d.Start()
	c := simConn(t, s, d.Dispatch)
	defer d.Stop()
	for i := range calls {
		_, cmd := originateCmd(t, "0312345"+strconv.Itoa(1000+i))
		if _, _, err := c.BgAPI(ctxTimeout(t, 5*time.Second), cmd); err != nil {
			t.Fatal(err)
		}
		if i%100 == 0 {
			clock.Advance(300 * time.Millisecond) // calls overlap: their events interleave
		}
	}
	clock.Advance(time.Minute)
	select {
	case <-check.done:
	case <-time.After(10 * time.Second):
		t.Fatalf("%d of %d events arrived", check.count, check.want)
	}
	if len(check.bad) > 0 {
		t.Fatalf("%d events out of order, first %s", len(check.bad), check.bad[0])
	}
}

// Defect: JSON events are not parsed. Fix: kakeru subscribes with `event plain` only.
func TestDefectJSONEvents(t *testing.T) {
	s := fsimtest.Start(t, fsim.Options{})
	simConn(t, s, nil)
	if rec := s.Commands(); len(rec) == 0 || !strings.HasPrefix(rec[0], "event plain CHANNEL_CREATE ") {
		t.Fatalf("subscription %q", rec)
	}
}

// Defect: a command that times out leaves its late reply for the next command. Fix: a timeout
// ends the connection; no later command on it can read the stale reply.
func TestDefectLateReplyAfterTimeout(t *testing.T) {
	s := fsimtest.Start(t, fsim.Options{})
	c := simConn(t, s, nil)
	if err := s.Inject(fsim.FaultStall); err != nil {
		t.Fatal(err)
	}
	if _, err := c.API(ctxTimeout(t, 100*time.Millisecond), "status"); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("stalled status: %v", err)
	}
	s.Resume() // the switch now sends the late reply to the first command
	if body, err := c.API(ctxTimeout(t, time.Second), "uuid_exists "+freeswitch.NewUUID()); err == nil {
		t.Fatalf("the timed-out connection answered another command: %q", body)
	}
	fresh := simConn(t, s, nil)
	if body, err := fresh.API(ctxTimeout(t, time.Second), "uuid_exists "+freeswitch.NewUUID()); err != nil || body != "false" {
		t.Fatalf("new connection: %q %v", body, err)
	}
}

// Defect: a context deadline is set on the socket and never cleared, so later commands fail
// with i/o timeout. Fix: every command sets its own deadline.
func TestDefectStaleDeadline(t *testing.T) {
	s := fsimtest.Start(t, fsim.Options{})
	c := simConn(t, s, nil)
	short, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if _, err := c.API(short, "status"); err != nil {
		t.Fatal(err)
	}
	<-short.Done() // the first command's deadline is now in the past
	if _, err := c.API(context.Background(), "status"); err != nil {
		t.Fatalf("command after an earlier deadline passed: %v", err)
	}
}

// Defect: an unknown Content-Type (log/data) stops the receive loop silently. Fix: the reader
// skips frames it does not know and goes on.
func TestDefectUnknownContentType(t *testing.T) {
	s := fsimtest.Start(t, fsim.Options{Script: fsim.Answering(0, 0)})
	created := make(chan string, 1)
	c := simConn(t, s, func(_ context.Context, e *wire.Event) error {
		if e.Name() == "CHANNEL_CREATE" {
			created <- e.UniqueID()
		}
		return nil
	})
	if err := s.Inject(fsim.FaultUnknownContent); err != nil {
		t.Fatal(err)
	}
	if _, err := c.API(ctxTimeout(t, time.Second), "status"); err != nil {
		t.Fatalf("reply after unknown frames: %v", err)
	}
	id, cmd := originateCmd(t, "0312345678")
	if _, _, err := c.BgAPI(ctxTimeout(t, time.Second), cmd); err != nil {
		t.Fatal(err)
	}
	if got := <-created; got != id {
		t.Fatalf("event for %s, want %s", got, id)
	}
}

// Defect: Dial blocks forever when the peer never sends auth/request. Fix: Dial honours its
// context's deadline.
func TestDefectDialWithoutGreeting(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	accepted := make(chan net.Conn, 1)
	go func() {
		c, err := ln.Accept()
		if err == nil {
			accepted <- c // says nothing
		}
		close(accepted)
	}()
	start := time.Now()
	_, err = freeswitch.Dial(ctxTimeout(t, 200*time.Millisecond), ln.Addr().String(), "ClueCon", nil, nil)
	if err == nil || time.Since(start) > 2*time.Second {
		t.Fatalf("silent peer: %v after %s", err, time.Since(start))
	}
	if c := <-accepted; c != nil {
		c.Close()
	}
}

// Defect: OriginateCall drops origination_uuid and orders variables randomly. Fix: our own
// builder, deterministic, origination_uuid first, variables in the caller's order.
func TestDefectOriginateText(t *testing.T) {
	o := freeswitch.Originate{UUID: "b050d810-4efd-40c3-af27-ec111eb49eff", DialString: "sofia/gateway/main/0312345678",
		App: "&park()", Vars: []freeswitch.Var{{Name: "z", Value: "1"}, {Name: "a", Value: "x,y"}, {Name: "m", Value: "it's"}}}
	first, err := freeswitch.OriginateCmd(o)
	if err != nil {
		t.Fatal(err)
	}
	for range 50 {
		if again, _ := freeswitch.OriginateCmd(o); again != first {
			t.Fatalf("originate text changed: %q then %q", first, again)
		}
	}
	const want = `originate {origination_uuid=b050d810-4efd-40c3-af27-ec111eb49eff,z=1,a=x\,y,m=it\'s}sofia/gateway/main/0312345678 &park()`
	if first != want {
		t.Fatalf("got  %s\nwant %s", first, want)
	}
}

// Defect: a bgapi result can arrive before a listener registered after the reply. Fix: our
// Job-UUID, registered before sending. Calls that fail at once send the result right behind
// the reply, often in the same TCP segment; every one is received.
func TestDefectBgapiResultBeforeListener(t *testing.T) {
	s := fsimtest.Start(t, fsim.Options{Script: func(string) fsim.Fate { return fsim.Fate{Early: true, Cause: "GATEWAY_DOWN"} }})
	c := simConn(t, s, nil)
	for range 300 {
		_, cmd := originateCmd(t, "0312345678")
		_, res, err := c.BgAPI(ctxTimeout(t, time.Second), cmd)
		if err != nil {
			t.Fatal(err)
		}
		select {
		case r := <-res:
			var oe *freeswitch.OriginateError
			if _, err := freeswitch.ParseJobResult(r.Body); !errors.As(err, &oe) || oe.Cause != "GATEWAY_DOWN" {
				t.Fatalf("result %q: %v", r.Body, err)
			}
		case <-time.After(5 * time.Second):
			t.Fatal("bgapi result lost")
		}
	}
}

// Defect: HangupCall / AnswerCall ignore -ERR. Fix: every api reply starting -ERR is an error.
func TestDefectIgnoredErr(t *testing.T) {
	s := fsimtest.Start(t, fsim.Options{})
	c := simConn(t, s, nil)
	kill, err := freeswitch.UUIDKill(freeswitch.NewUUID(), "NORMAL_CLEARING")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.API(ctxTimeout(t, time.Second), kill); !errors.Is(err, freeswitch.ErrNoSuchChannel) {
		t.Fatalf("kill of a missing channel: %v", err)
	}
}

// Defect: WaitForDTMF can panic on back-to-back DTMF, and eslgo's other helpers carry the
// defects above. Fix: the package calls none of them; back-to-back DTMF events arrive in order
// through the ordered path.
func TestDefectUnsafeHelpersAndDTMF(t *testing.T) {
	files, _ := filepath.Glob("*.go")
	banned := map[string]bool{"WaitForDTMF": true, "OriginateCall": true, "HangupCall": true, "AnswerCall": true,
		"RegisterEventListener": true, "Dial": true}
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		src, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		file, err := parser.ParseFile(token.NewFileSet(), f, src, 0)
		if err != nil {
			t.Fatal(err)
		}
		ast.Inspect(file, func(n ast.Node) bool {
			if sel, ok := n.(*ast.SelectorExpr); ok {
				if x, ok := sel.X.(*ast.Ident); ok && x.Name == "eslgo" && banned[sel.Sel.Name] {
					t.Errorf("%s uses eslgo.%s", f, sel.Sel.Name)
				}
			}
			if call, ok := n.(*ast.SelectorExpr); ok && (call.Sel.Name == "WaitForDTMF" || call.Sel.Name == "RegisterEventListener") {
				t.Errorf("%s calls %s", f, call.Sel.Name)
			}
			return true
		})
	}

	s := fsimtest.Start(t, fsim.Options{Script: fsim.Answering(0, 0)})
	var mu sync.Mutex
	var digits []string
	got := make(chan struct{})
	d := freeswitch.NewDispatcher(4, 16, func(e *wire.Event) {
		if e.Name() == "DTMF" {
			mu.Lock()
			digits = append(digits, e.Header.Get("DTMF-Digit"))
			if len(digits) == 12 {
				close(got)
			}
			mu.Unlock()
		}
	})
	d.Start()
	defer d.Stop()
	c := simConn(t, s, d.Dispatch)
	id, cmd := originateCmd(t, "0312345678")
	_, res, err := c.BgAPI(ctxTimeout(t, time.Second), cmd)
	if err != nil {
		t.Fatal(err)
	}
	<-res
	s.DTMF(id, "0123456789*#")
	select {
	case <-got:
	case <-time.After(5 * time.Second):
		t.Fatal("DTMF events lost")
	}
	if strings.Join(digits, "") != "0123456789*#" {
		t.Fatalf("DTMF order %v", digits)
	}
}

// APIBatch sends several commands in one write and gives each its own reply, in order, with a
// refusal of one not failing the others.
func TestAPIBatchRepliesInOrder(t *testing.T) {
	s := fsimtest.Start(t, fsim.Options{})
	c := simConn(t, s, nil)
	missing := freeswitch.NewUUID()
	bodies, errs, err := c.APIBatch(ctxTimeout(t, time.Second), []string{"uuid_exists " + missing, "uuid_kill " + missing, "global_getvar hostname"})
	if err != nil {
		t.Fatal(err)
	}
	if bodies[0] != "false" || errs[0] != nil || errs[1] == nil || bodies[2] != "fsim" || errs[2] != nil {
		t.Fatalf("bodies %q errs %v", bodies, errs)
	}
	if _, err := c.API(ctxTimeout(t, time.Second), "status"); err != nil {
		t.Fatalf("after a batch: %v", err)
	}
}
