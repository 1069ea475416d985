package main

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"os"
	"os/exec"
	"sort"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/kakeru-dialer/kakeru/freeswitch/fsim"
	"github.com/kakeru-dialer/kakeru/freeswitch/fsim/fsimtest"
)

// instance is a `kakeru serve` process the test may SIGKILL.
type instance struct {
	t    *testing.T
	path string
	addr string
	mu   sync.Mutex
	cmd  *exec.Cmd
	logs bytes.Buffer
}

func (in *instance) start() {
	in.t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), "KAKERU_TEST_SERVE="+in.path, "KAKERU_HTTP_LISTEN="+in.addr)
	cmd.Stdout, cmd.Stderr = &in.logs, &in.logs
	if err := cmd.Start(); err != nil {
		in.t.Fatal(err)
	}
	in.mu.Lock()
	in.cmd = cmd
	in.mu.Unlock()
	deadline := time.Now().Add(15 * time.Second)
	for {
		resp, err := http.Get("http://" + in.addr + "/healthz")
		if err == nil {
			resp.Body.Close()
			return
		}
		if time.Now().After(deadline) {
			in.t.Fatalf("instance on %s did not come up: %s", in.addr, in.logs.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func (in *instance) kill() {
	in.mu.Lock()
	cmd := in.cmd
	in.mu.Unlock()
	_ = cmd.Process.Signal(syscall.SIGKILL)
	_ = cmd.Wait()
}

func (in *instance) stop() {
	in.mu.Lock()
	cmd := in.cmd
	in.mu.Unlock()
	_ = cmd.Process.Signal(syscall.SIGTERM)
	_ = cmd.Wait()
}

// P-5 and J-4 across instances and crashes: two instances share one job of 5,000 contacts while
// one of them is SIGKILLed and restarted every few seconds. Afterwards PostgreSQL and the
// simulator's record show every channel backed by exactly one attempt row, no number with two
// calls at once, every contact dialed, and no attempt left unfinished.
func TestTwoInstancesWithKills(t *testing.T) {
	if testing.Short() {
		t.Skip("multi-instance kill test skipped in -short mode")
	}
	const contacts = 5000
	script := func(dial string) fsim.Fate {
		if strings.Contains(dial, "/agent-") {
			return fsim.Fate{Answer: true}
		}
		switch dial[len(dial)-len("/customers")-1] {
		case '0', '1', '2':
			return fsim.Fate{Cause: "USER_BUSY", Ring: 20 * time.Millisecond}
		case '3', '4', '5':
			return fsim.Fate{Cause: "NO_ANSWER", Ring: 60 * time.Millisecond}
		case '6', '7', '8':
			return fsim.Fate{Cause: "UNALLOCATED_NUMBER", Ring: 10 * time.Millisecond}
		}
		return fsim.Fate{Answer: true, Ring: 30 * time.Millisecond, Talk: 100 * time.Millisecond}
	}
	sw := fsimtest.Start(t, fsim.Options{Script: script})
	path := testConfig(t, sw.Addr())
	// Ratio pacing, three calls per ready agent: the test is about claims and crashes (P-5),
	// so the dialing rate must not depend on what pacing has learnt by the time of each kill.
	editFile(t, path, "      mode: predictive\n", "      mode: ratio\n")
	t.Setenv("KAKERU_SYSTEM_LIMITS_MAX_ROWS_PER_LIST", "10000") // the list is above the default 3,000
	migrateFor(t, path)
	db, err := sql.Open("postgres", os.Getenv("KAKERU_POSTGRES_DSN"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	insts := []*instance{{t: t, path: path, addr: closedPort(t)}, {t: t, path: path, addr: closedPort(t)}}
	for _, in := range insts {
		in.start()
	}
	defer func() {
		for _, in := range insts {
			in.stop()
		}
	}()
	job := setupJob(t, "http://"+insts[0].addr, contacts)

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	sim := &agentSim{base: "http://" + insts[1].addr, job: job, agents: []int{1001, 1002, 1003, 1004},
		token: func(id int) string { return fmt.Sprintf("demo-agent-%d-token", id) }, talk: time.Second, wrap: 20 * time.Millisecond,
		codes: []string{"interested", "not_interested"}}
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { defer wg.Done(); sim.run(ctx) }()
	kills := 0
	go func() {
		defer wg.Done()
		r := rand.New(rand.NewPCG(1, 2))
		for {
			select {
			case <-ctx.Done():
				return
			case <-time.After(time.Duration(2500+r.IntN(2000)) * time.Millisecond):
			}
			in := insts[r.IntN(2)]
			in.kill()
			kills++
			in.start()
		}
	}()

	var dialed, open int
	deadline := time.Now().Add(4 * time.Minute)
	for {
		db.QueryRow(`SELECT count(DISTINCT contact_id), count(*) FILTER (WHERE outcome = 'in_progress') FROM attempts`).Scan(&dialed, &open)
		if dialed == contacts {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("only %d of %d contacts dialed", dialed, contacts)
		}
		time.Sleep(200 * time.Millisecond)
	}
	cancel() // no more kills; the survivors settle what is still in flight
	wg.Wait()
	for deadline := time.Now().Add(30 * time.Second); ; {
		db.QueryRow(`SELECT count(*) FROM attempts WHERE outcome = 'in_progress'`).Scan(&open)
		if open == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d attempts left unfinished", open)
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Logf("%d contacts dialed through %d kills", dialed, kills)

	attempts := map[string]string{} // channel UUID → tel
	rows, err := db.Query(`SELECT channel_uuid, tel FROM attempts`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var id, tel string
		rows.Scan(&id, &tel)
		attempts[id] = tel
	}
	rows.Close()
	byNumber := map[string][]fsim.ChannelRecord{}
	for _, ch := range sw.History() {
		if strings.Contains(ch.Dial, "/agent-") {
			continue
		}
		tel, ok := attempts[ch.UUID]
		if !ok || !strings.Contains(ch.Dial, "/"+tel+"/") {
			t.Fatalf("channel %s to %s has no attempt row of its own", ch.UUID, ch.Dial)
		}
		delete(attempts, ch.UUID) // a second channel with the same UUID would fail above
		byNumber[tel] = append(byNumber[tel], ch)
	}
	for tel, chans := range byNumber {
		sort.Slice(chans, func(i, j int) bool { return chans[i].Created.Before(chans[j].Created) })
		for i := 1; i < len(chans); i++ {
			if chans[i-1].Ended.IsZero() || chans[i].Created.Before(chans[i-1].Ended) {
				t.Fatalf("%s had two calls at once: %+v and %+v", tel, chans[i-1], chans[i])
			}
		}
	}
}

// setupJob creates, through the API at base, a batch of campaign 1 with a list of n numbers
// assigned to dial group 1 and a started call job over it.
func setupJob(t *testing.T, base string, n int) int64 {
	t.Helper()
	do := func(method, path, ctype string, body []byte, want int) map[string]any {
		t.Helper()
		req, _ := http.NewRequest(method, base+path, bytes.NewReader(body))
		req.Header.Set("Authorization", "Bearer demo-admin-token")
		req.Header.Set("Content-Type", ctype)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var out map[string]any
		json.NewDecoder(resp.Body).Decode(&out)
		if resp.StatusCode != want {
			t.Fatalf("%s %s: %d %v", method, path, resp.StatusCode, out)
		}
		return out
	}
	js := func(v any) []byte { b, _ := json.Marshal(v); return b }
	b := do("POST", "/api/v1/batches", "application/json", js(map[string]any{"name": "multi", "campaign_id": 1, "start_date": todayTokyo()}), 201)
	batch := int64(b["id"].(float64))
	do("PUT", fmt.Sprintf("/api/v1/batches/%d/dial-groups", batch), "application/json", js(map[string]any{"dial_group_ids": []int{1}}), 200)
	var csv strings.Builder
	csv.WriteString("name,kana,tel\n")
	for i := range n {
		fmt.Fprintf(&csv, "顧客%d,コキャク,090%08d\n", i, i)
	}
	form, contentType := listForm(csv.String())
	l := do("POST", fmt.Sprintf("/api/v1/batches/%d/lists", batch), contentType, form, 201)
	list := int64(l["id"].(float64))
	do("POST", fmt.Sprintf("/api/v1/batches/%d/assignments", batch), "application/json",
		js(map[string]any{"list_id": list, "dial_group_id": 1, "count": n}), 201)
	j := do("POST", fmt.Sprintf("/api/v1/batches/%d/call-jobs", batch), "application/json",
		js(map[string]any{"name": "multi", "list_id": list, "dial_group_id": 1, "caller_id": "0312345678"}), 201)
	job := int64(j["id"].(float64))
	do("POST", fmt.Sprintf("/api/v1/call-jobs/%d/start", job), "application/json", nil, 200)
	return job
}
