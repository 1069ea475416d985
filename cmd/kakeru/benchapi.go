package main

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"io"
	"mime/multipart"
	"net"
	"net/http"
	"net/url"
	"os"
	"runtime/pprof"
	"slices"
	"strings"
	"sync"
	"text/tabwriter"
	"time"
)

// runBenchAPI is `kakeru bench api`: the engine benchmark's dialing (simulated switch, agents,
// one instance with its PostgreSQL and Redis) while clients hammer the API with the worst
// requests of the hardening work — the heaviest searches and report ranges allowed, oversized
// JSON bodies and list uploads, bodies trickled a byte a second, unauthenticated bodies — and a
// prober asks /healthz every 10 ms. It reports /healthz and answer→bridge latency per run.
func runBenchAPI(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("kakeru bench api", flag.ContinueOnError)
	fs.SetOutput(stderr)
	cfgPath := fs.String("config", "kakeru.yaml", "configuration file (PostgreSQL and Redis are used; the switch is simulated)")
	agents := fs.Int("agents", 200, "simulated agents joined to the job")
	seconds := fs.Duration("duration", 20*time.Second, "measured time per run")
	runs := fs.Int("runs", 3, "runs")
	clients := fs.Int("clients", 8, "clients sending the worst requests back to back")
	slow := fs.Int("slow", 200, "connections trickling a request body one byte a second")
	token := fs.String("token", "demo-admin-token", "an admin's token")
	only := fs.Int("only", -1, "send only this one of the worst requests (0-based, for finding what costs; -1: all)")
	cpuprofile := fs.String("cpuprofile", "", "write a CPU profile of the runs to this file")
	if err := fs.Parse(args); err != nil {
		return exitUsage
	}
	if *cpuprofile != "" {
		f, err := os.Create(*cpuprofile)
		if err != nil {
			fmt.Fprintln(stderr, "kakeru bench api:", err)
			return 1
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			fmt.Fprintln(stderr, "kakeru bench api:", err)
			return 1
		}
		defer pprof.StopCPUProfile()
	}
	fmt.Fprintf(stdout, "API load benchmark: one instance dialing with %d agents (simulated switch on loopback) while %d clients\n"+
		"send the worst requests and %d connections trickle bodies; /healthz asked every 10 ms\n\n", *agents, *clients, *slow)
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "run\thealthz p50 ms\tp99 ms\tmax ms\tanswer→bridge p50 ms\tp99 ms\tengine's own p50 ms\tp99 ms\tbridges\tAPI requests\t5xx\t")
	var hp99, bp99, op99 []float64
	for run := 1; run <= *runs; run++ {
		l := &apiLoad{token: *token, clients: *clients, slow: *slow, only: *only}
		r, err := benchPhase(ctx, *cfgPath, *agents, "progressive", 1, 0, *seconds, 0, l.start)
		if err != nil {
			fmt.Fprintln(stderr, "kakeru bench api:", err)
			return 1
		}
		h := l.healthz()
		hp99, bp99, op99 = append(hp99, h.p99), append(bp99, r.p99), append(op99, r.ownP99)
		fmt.Fprintf(tw, "%d\t%.1f\t%.1f\t%.1f\t%.1f\t%.1f\t%.1f\t%.1f\t%d\t%d\t%d\t\n", run, h.p50, h.p99, h.max, r.p50, r.p99,
			r.ownP50, r.ownP99, r.bridges, l.requests, l.serverErrors)
	}
	fmt.Fprintf(tw, "median\t\t%.1f\t\t\t%.1f\t\t%.1f\t\t\t\t\n", median(hp99), median(bp99), median(op99))
	tw.Flush()
	fmt.Fprintln(stdout, "\nworst requests: 5-word searches of unsaved dispositions and contacts, reports over 2000–2099, 2 MiB JSON")
	fmt.Fprintln(stdout, "bodies (413), 40 MiB list uploads (413 at the upload cap), bodies without a token (401); trickled bodies")
	fmt.Fprintln(stdout, "carry an admin's token. answer→bridge includes the simulated switch's originate return (20 ms after the")
	fmt.Fprintln(stdout, "answer: a customer is moved only once its originate has returned); the engine's own part starts at the")
	fmt.Fprintln(stdout, "later of the two. Targets: /healthz p99 < 50 ms, the engine's own answer→bridge p99 < 20 ms.")
	return 0
}

// apiLoad is one run's hammering and its counts.
type apiLoad struct {
	token         string
	clients, slow int
	only          int

	mu           sync.Mutex
	lat          []float64 // /healthz, ms
	requests     int
	serverErrors int
}

type latencies struct{ p50, p99, max float64 }

func (l *apiLoad) healthz() latencies {
	l.mu.Lock()
	defer l.mu.Unlock()
	s := slices.Clone(l.lat)
	slices.Sort(s)
	if len(s) == 0 {
		return latencies{}
	}
	return latencies{s[len(s)/2], s[min(len(s)-1, len(s)*99/100)], s[len(s)-1]}
}

// start begins the load on m and returns what stops it (and waits for every goroutine).
func (l *apiLoad) start(ctx context.Context, m *Main, batch int64) func() {
	ctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	base := "http://" + m.Addr()
	wg.Go(func() { l.probe(ctx, base) })
	reqs := l.worst(base, batch)
	if l.only >= 0 && l.only < len(reqs) {
		reqs = reqs[l.only : l.only+1]
	}
	for i := range l.clients {
		wg.Go(func() { l.hammer(ctx, reqs, i) })
	}
	for range l.slow {
		wg.Go(func() { l.trickle(ctx, m.Addr()) })
	}
	return func() { cancel(); wg.Wait() }
}

func (l *apiLoad) probe(ctx context.Context, base string) {
	c := &http.Client{Timeout: 5 * time.Second}
	t := time.NewTicker(10 * time.Millisecond)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		start := time.Now()
		resp, err := c.Get(base + "/healthz")
		if err != nil {
			continue
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		l.mu.Lock()
		l.lat = append(l.lat, float64(time.Since(start).Microseconds())/1000)
		l.mu.Unlock()
	}
}

// worst builds the requests the clients cycle through.
func (l *apiLoad) worst(base string, batch int64) []func(context.Context) (*http.Request, error) {
	get := func(path string) func(context.Context) (*http.Request, error) {
		return func(ctx context.Context) (*http.Request, error) {
			r, err := http.NewRequestWithContext(ctx, http.MethodGet, base+path, nil)
			if err == nil {
				r.Header.Set("Authorization", "Bearer "+l.token)
			}
			return r, err
		}
	}
	words := url.QueryEscape("田中 鈴木 090 様 a")
	bigJSON := []byte(`{"name":"` + strings.Repeat("x", 2<<20) + `","campaign_id":1,"start_date":"2099-01-01"}`)
	return []func(context.Context) (*http.Request, error){
		get("/api/v1/unsaved-dispositions?q=" + words),
		get(fmt.Sprintf("/api/v1/contacts?batch_id=%d&q=%s", batch, words)),
		get("/api/v1/reports/summary?from=2000-01-01&to=2099-12-31"),
		get(fmt.Sprintf("/api/v1/reports/results.csv?batch_id=%d&from=2000-01-01&to=2099-12-31", batch)),
		func(ctx context.Context) (*http.Request, error) {
			r, err := http.NewRequestWithContext(ctx, http.MethodPost, base+"/api/v1/batches", bytes.NewReader(bigJSON))
			if err == nil {
				r.Header.Set("Authorization", "Bearer "+l.token)
				r.Header.Set("Content-Type", "application/json")
			}
			return r, err
		},
		func(ctx context.Context) (*http.Request, error) { return hugeUpload(ctx, base, batch, l.token) },
		func(ctx context.Context) (*http.Request, error) {
			r, err := http.NewRequestWithContext(ctx, http.MethodPost, base+"/api/v1/batches", bytes.NewReader(bigJSON))
			if err == nil {
				r.Header.Set("Content-Type", "application/json") // no token
			}
			return r, err
		},
	}
}

// hugeUpload streams a 40 MiB list upload, generated as it is sent.
func hugeUpload(ctx context.Context, base string, batch int64, token string) (*http.Request, error) {
	pr, pw := io.Pipe()
	mw := multipart.NewWriter(pw)
	go func() {
		_ = mw.WriteField("name", "bench")
		w, err := mw.CreateFormFile("file", "huge.csv")
		if err == nil {
			_, err = io.WriteString(w, "name,kana,tel,remarks\r\n")
			chunk := strings.Repeat("山田太郎,ヤマダタロウ,09011112222,"+strings.Repeat("r", 2000)+"\r\n", 128)
			for n := 0; err == nil && n < 40<<20; n += len(chunk) {
				_, err = io.WriteString(w, chunk)
			}
		}
		if err == nil {
			err = mw.Close()
		}
		pw.CloseWithError(err)
	}()
	r, err := http.NewRequestWithContext(ctx, http.MethodPost, fmt.Sprintf("%s/api/v1/batches/%d/lists", base, batch), pr)
	if err != nil {
		pr.Close()
		return nil, err
	}
	r.Header.Set("Authorization", "Bearer "+token)
	r.Header.Set("Content-Type", mw.FormDataContentType())
	return r, nil
}

func (l *apiLoad) hammer(ctx context.Context, reqs []func(context.Context) (*http.Request, error), first int) {
	// Large writes: the client's own system calls would otherwise weigh on the machine the
	// server under test shares.
	c := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{WriteBufferSize: 256 << 10}}
	for i := first; ctx.Err() == nil; i++ {
		req, err := reqs[i%len(reqs)](ctx)
		if err != nil {
			return
		}
		resp, err := c.Do(req)
		if err != nil {
			continue
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		l.mu.Lock()
		l.requests++
		if resp.StatusCode >= 500 {
			l.serverErrors++
		}
		l.mu.Unlock()
	}
}

// trickle sends a request whose body comes a byte a second until the server ends it.
func (l *apiLoad) trickle(ctx context.Context, addr string) {
	for ctx.Err() == nil {
		c, err := (&net.Dialer{}).DialContext(ctx, "tcp", addr)
		if err != nil {
			return
		}
		stop := context.AfterFunc(ctx, func() { c.Close() })
		_, err = fmt.Fprintf(c, "POST /api/v1/batches HTTP/1.1\r\nHost: bench\r\nAuthorization: Bearer %s\r\n"+
			"Content-Type: application/json\r\nContent-Length: 200000\r\n\r\n", l.token)
		for err == nil {
			select {
			case <-ctx.Done():
				err = ctx.Err()
			case <-time.After(time.Second):
				_, err = c.Write([]byte(" "))
			}
		}
		stop()
		c.Close()
	}
}
