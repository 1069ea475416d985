package freeswitch_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kakeru-dialer/kakeru/freeswitch"
	"github.com/kakeru-dialer/kakeru/freeswitch/wire"
)

// peer is a scripted event socket: it greets, accepts the password, then hands every command to
// script, which writes whatever frames the test wants.
func peer(t *testing.T, password string, script func(w io.Writer, cmd string)) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	var conns []net.Conn
	var mu sync.Mutex
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer c.Close()
				r := bufio.NewReader(c)
				io.WriteString(c, "Content-Type: auth/request\n\n")
				for {
					cmd, err := readCmd(r)
					if err != nil {
						return
					}
					if strings.HasPrefix(cmd, "auth ") {
						if cmd != "auth "+password {
							io.WriteString(c, "Content-Type: command/reply\nReply-Text: -ERR invalid\n\n")
							return
						}
						io.WriteString(c, "Content-Type: command/reply\nReply-Text: +OK accepted\n\n")
						continue
					}
					script(c, cmd)
				}
			}()
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		mu.Lock()
		for _, c := range conns {
			c.Close()
		}
		mu.Unlock()
		wg.Wait()
	})
	return ln.Addr().String()
}

func readCmd(r *bufio.Reader) (string, error) {
	var lines []string
	for {
		l, err := r.ReadString('\n')
		if err != nil {
			return "", err
		}
		if l == "\n" {
			return strings.Join(lines, "\n"), nil
		}
		lines = append(lines, strings.TrimSuffix(l, "\n"))
	}
}

func reply(w io.Writer, text string) {
	fmt.Fprintf(w, "Content-Type: command/reply\nReply-Text: %s\n\n", text)
}

func apiResponse(w io.Writer, body string) {
	fmt.Fprintf(w, "Content-Type: api/response\nContent-Length: %d\n\n%s", len(body), body)
}

func plainEvent(w io.Writer, h wire.Header, body string) {
	var b strings.Builder
	for _, f := range h {
		fmt.Fprintf(&b, "%s: %s\n", f.Name, strings.ReplaceAll(f.Value, " ", "%20"))
	}
	if body != "" {
		fmt.Fprintf(&b, "Content-Length: %d\n\n%s", len(body), body)
	} else {
		b.WriteString("\n")
	}
	fmt.Fprintf(w, "Content-Length: %d\nContent-Type: text/event-plain\n\n%s", b.Len(), b.String())
}

func ctxTimeout(t *testing.T, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

// The result of a bgapi is routed by the Job-UUID we chose, even when the switch sends it before
// the command's reply (docs/event-socket.md §1); api bodies and events arrive in wire order; an unknown
// content type does not stop reading.
func TestConnRoutesRepliesJobsAndEvents(t *testing.T) {
	addr := peer(t, "ClueCon", func(w io.Writer, cmd string) {
		switch {
		case strings.HasPrefix(cmd, "event plain"):
			reply(w, "+OK event listener enabled plain")
		case strings.HasPrefix(cmd, "bgapi "):
			job := cmd[strings.Index(cmd, "Job-UUID: ")+len("Job-UUID: "):]
			plainEvent(w, wire.Header{{Name: "Event-Name", Value: "BACKGROUND_JOB"}, {Name: "Job-UUID", Value: job}}, "-ERR USER_BUSY\n")
			reply(w, "+OK Job-UUID: "+job)
		case cmd == "api uuid_exists b050d810-4efd-40c3-af27-ec111eb49eff":
			io.WriteString(w, "Content-Type: log/data\nContent-Length: 5\n\nnoise")
			for i := 1; i <= 3; i++ {
				plainEvent(w, wire.Header{{Name: "Event-Name", Value: "CHANNEL_PROGRESS"}, {Name: "Unique-ID", Value: "u"}, {Name: "X-Seq", Value: fmt.Sprint(i)}}, "")
			}
			apiResponse(w, "false")
		}
	})
	var mu sync.Mutex
	var seqs []string
	jobs := 0
	c, err := freeswitch.Dial(ctxTimeout(t, 2*time.Second), addr, "ClueCon", freeswitch.EngineEvents(), func(_ context.Context, e *wire.Event) error {
		mu.Lock()
		if e.Name() == "BACKGROUND_JOB" {
			jobs++ // and to the waiter: the engine orders it with the channel's events
			mu.Unlock()
			return nil
		}
		seqs = append(seqs, e.Header.Get("X-Seq"))
		mu.Unlock()
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_, results, err := c.BgAPI(ctxTimeout(t, time.Second), "originate {origination_uuid=55713d9f-24e6-4e14-a91a-610835258b8b}loopback/1/customers &park()")
	if err != nil {
		t.Fatal(err)
	}
	res := <-results
	_, err = freeswitch.ParseJobResult(res.Body)
	var oe *freeswitch.OriginateError
	if res.Err != nil || !errors.As(err, &oe) || oe.Cause != "USER_BUSY" {
		t.Fatalf("job result %+v → %v", res, err)
	}
	body, err := c.API(ctxTimeout(t, time.Second), "uuid_exists b050d810-4efd-40c3-af27-ec111eb49eff")
	if err != nil || body != "false" {
		t.Fatalf("api %q %v", body, err)
	}
	mu.Lock()
	defer mu.Unlock()
	if strings.Join(seqs, ",") != "1,2,3" || jobs != 1 {
		t.Fatalf("events %v, %d BACKGROUND_JOB to the handler (want 1)", seqs, jobs)
	}
}

func TestConnAuthRefusedAndRudeRejection(t *testing.T) {
	addr := peer(t, "ClueCon", func(io.Writer, string) {})
	if _, err := freeswitch.Dial(ctxTimeout(t, 2*time.Second), addr, "wrong", nil, nil); err == nil || !strings.Contains(err.Error(), "refused") {
		t.Fatalf("got %v", err)
	}
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	defer ln.Close()
	go func() {
		c, err := ln.Accept()
		if err == nil {
			io.WriteString(c, "Content-Type: text/rude-rejection\nContent-Length: 24\n\nAccess Denied, go away.\n")
			c.Close()
		}
	}()
	if _, err := freeswitch.Dial(ctxTimeout(t, 2*time.Second), ln.Addr().String(), "ClueCon", nil, nil); err == nil || !strings.Contains(err.Error(), "rude-rejection") {
		t.Fatalf("got %v", err)
	}
}

// A command whose reply does not come in time ends the connection, so its late reply can never
// answer the next command (docs/event-socket.md §1).
func TestConnCommandTimeoutEndsConnection(t *testing.T) {
	addr := peer(t, "ClueCon", func(w io.Writer, cmd string) {
		if cmd == "api status" {
			return // stalled: never answers
		}
		apiResponse(w, "late")
	})
	c, err := freeswitch.Dial(ctxTimeout(t, 2*time.Second), addr, "ClueCon", nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := c.API(ctxTimeout(t, 100*time.Millisecond), "status"); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("got %v", err)
	}
	<-c.Done()
	if _, err := c.API(ctxTimeout(t, time.Second), "uuid_exists b050d810-4efd-40c3-af27-ec111eb49eff"); err == nil {
		t.Fatal("a command went out on a connection whose previous reply is still owed")
	}
}

// A disconnect-notice ends the connection; a pending bgapi learns it has no result.
func TestConnDisconnectNotice(t *testing.T) {
	addr := peer(t, "ClueCon", func(w io.Writer, cmd string) {
		job := cmd[strings.Index(cmd, "Job-UUID: ")+len("Job-UUID: "):]
		reply(w, "+OK Job-UUID: "+job)
		io.WriteString(w, "Content-Type: text/disconnect-notice\nContent-Length: 13\n\nDisconnected.")
	})
	c, err := freeswitch.Dial(ctxTimeout(t, 2*time.Second), addr, "ClueCon", nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	// The notice follows the command's reply at once: the reader may close the connection
	// before the command has taken its reply (an error here), or after (the job fails).
	_, results, err := c.BgAPI(ctxTimeout(t, time.Second), "status")
	if err != nil && !strings.Contains(err.Error(), "disconnect-notice") {
		t.Fatal(err)
	}
	if err == nil {
		if res := <-results; res.Err == nil {
			t.Fatalf("pending job got %+v after the disconnect", res)
		}
	}
	<-c.Done()
	if c.Err() == nil || !strings.Contains(c.Err().Error(), "disconnect-notice") {
		t.Fatalf("err %v", c.Err())
	}
}
