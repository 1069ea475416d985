package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"mime/multipart"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
	"golang.org/x/text/encoding/japanese"
	"golang.org/x/text/transform"

	"github.com/kakeru-dialer/kakeru/config"
	"github.com/kakeru-dialer/kakeru/freeswitch/fsim"
	"github.com/kakeru-dialer/kakeru/store"
)

// demoOptions are the flags of `kakeru demo`.
type demoOptions struct {
	dialFor time.Duration
	// switchAddr is where the demo's own simulated switch listens ("127.0.0.1:0": a free port).
	switchAddr string
	// scenario is the simulated switch's fates file; empty: every call answers after a second.
	scenario string
	// redisDB is the Redis database the demo keeps its live state in, apart from the configured
	// one: agent state of another deployment is never read, and the demo starts clean.
	redisDB int
}

// Defaults of the demo's flags.
const (
	demoSwitchAddr = "127.0.0.1:0"
	demoScenario   = "fsim-scenario.example.yaml"
	demoRedisDB    = 14
)

// runDemo starts a simulated switch of its own and an instance whose only switch node is that
// one and whose live state is in a Redis database of its own, walks through the API the way an
// operator would (readiness, status, campaigns, a batch created, assigned, changed, listed and
// deleted), dials a generated list with simulated agents, prints what the engine answered, then
// shuts both down. Anything the demo needs that it cannot have (the switch's address taken, the
// switch unreachable, Redis down) ends it with a message and exit status 1: it never dials
// through a switch it did not start.
func runDemo(ctx context.Context, cfgPath string, cfg *config.Config, o demoOptions, logger *slog.Logger, stdout, stderr io.Writer) int {
	if o.redisDB < 0 || o.redisDB > 15 {
		fmt.Fprintf(stderr, "kakeru demo: --redis-db must be between 0 and 15, got %d\n", o.redisDB)
		return exitUsage
	}
	if o.redisDB == cfg.Redis.DB {
		fmt.Fprintf(stderr, "kakeru demo: --redis-db %d is the configured redis.db: the demo clears its database and keeps its live state apart; pick another one\n", o.redisDB)
		return exitUsage
	}
	node := cfg.FreeSWITCH.Nodes[0]
	so, what, err := fsimOptions(node.Password, o.scenario, time.Second, 10*time.Second)
	if err != nil {
		fmt.Fprintln(stderr, "kakeru demo: simulated switch:", err)
		return exitUsage
	}
	sw := fsim.New(so)
	if err := sw.Start(o.switchAddr); err != nil {
		fmt.Fprintf(stderr, "kakeru demo: the simulated switch cannot listen on %s: %v\n"+
			"  Something else (a FreeSWITCH, an earlier demo) holds the address. The demo dials only its own simulated switch:\n"+
			"  give it a free address with --switch (make demo DEMO_SWITCH=…), or 127.0.0.1:0 for any free port.\n", o.switchAddr, err)
		return 1
	}
	defer sw.Stop()
	if err := clearDemoState(ctx, cfg.Redis, o.redisDB); err != nil {
		fmt.Fprintln(stderr, "kakeru demo:", err)
		return 1
	}
	fmt.Fprintf(stdout, "Simulated FreeSWITCH listening on %s (%s); the demo's only switch node, %s, points at it.\n", sw.Addr(), what, node.Name)
	fmt.Fprintf(stdout, "Live state in Redis database %d (cleared of kakeru keys; the configured database %d is not touched).\n\n", o.redisDB, cfg.Redis.DB)

	m := NewMain(cfgPath, logger)
	m.Adjust = func(c *config.Config) {
		c.Redis.DB = o.redisDB
		c.FreeSWITCH.Nodes = []config.Node{{Name: node.Name, Address: sw.Addr(), Password: node.Password}}
	}
	if err := m.Run(ctx); err != nil {
		fmt.Fprintln(stderr, "kakeru demo:", err)
		return 1
	}
	err = nil
	if st := m.pool.States()[0]; !st.Connected {
		err = fmt.Errorf("the engine cannot reach the demo's simulated switch at %s: %s", sw.Addr(), st.LastError)
	}
	if err == nil {
		err = demoWalkthrough(ctx, "http://"+m.Addr(), config.DemoAdminToken, m.Now, m.live.Current(), stdout)
	}
	if err == nil && o.dialFor > 0 {
		c := &demoClient{base: "http://" + m.Addr(), token: config.DemoAdminToken, http: &http.Client{Timeout: 10 * time.Second}}
		err = demoDialing(ctx, c, m, m.live.Current(), 2000, o.dialFor, stdout)
	}
	if cerr := m.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		fmt.Fprintln(stderr, "kakeru demo:", err)
		return 1
	}
	return 0
}

// clearDemoState deletes every kakeru key (agent state, request queues, the live event stream)
// from the demo's Redis database, and nothing else, so the demo starts from a clean live state.
func clearDemoState(ctx context.Context, r config.Redis, db int) error {
	rdb := redis.NewClient(&redis.Options{Addr: r.Addr, DB: db, Password: r.Password,
		DialTimeout: 2 * time.Second, ReadTimeout: 2 * time.Second, WriteTimeout: 2 * time.Second})
	defer rdb.Close()
	iter := rdb.Scan(ctx, 0, "kakeru:*", 500).Iterator()
	var keys []string
	for iter.Next(ctx) {
		keys = append(keys, iter.Val())
	}
	if err := iter.Err(); err != nil {
		return fmt.Errorf("clear the demo's live state in Redis %s database %d: %w", r.Addr, db, err)
	}
	for len(keys) > 0 {
		n := min(len(keys), 500)
		if err := rdb.Unlink(ctx, keys[:n]...).Err(); err != nil {
			return fmt.Errorf("clear the demo's live state in Redis %s database %d: %w", r.Addr, db, err)
		}
		keys = keys[n:]
	}
	return nil
}

type demoClient struct {
	base, token string
	http        *http.Client
}

func (c *demoClient) do(ctx context.Context, method, path string, body any, out any) (int, error) {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return 0, err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, rd)
	if err != nil {
		return 0, err
	}
	req.Header.Set("Authorization", "Bearer "+c.token)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	if out != nil && resp.StatusCode != http.StatusNoContent {
		if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
			return resp.StatusCode, fmt.Errorf("%s %s: decode: %w", method, path, err)
		}
	}
	return resp.StatusCode, nil
}

func (c *demoClient) must(ctx context.Context, want int, method, path string, body, out any) error {
	var raw json.RawMessage
	got, err := c.do(ctx, method, path, body, &raw)
	if err != nil {
		return err
	}
	if got != want {
		return fmt.Errorf("%s %s answered %d, want %d: %s", method, path, got, want, raw)
	}
	if out != nil {
		return json.Unmarshal(raw, out)
	}
	return nil
}

func demoWalkthrough(ctx context.Context, base, token string, now func() time.Time, cfg *config.Config, w io.Writer) error {
	c := &demoClient{base: base, token: token, http: &http.Client{Timeout: 10 * time.Second}}
	fmt.Fprintf(w, "kakeru %s is serving on %s\n\n", version(), base)

	var ready struct {
		Status string   `json:"status"`
		Down   []string `json:"down"`
	}
	code, err := c.do(ctx, http.MethodGet, "/readyz", nil, &ready)
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "GET /readyz → %d %s", code, ready.Status)
	if len(ready.Down) > 0 {
		fmt.Fprintf(w, " down: %v", ready.Down)
	}
	fmt.Fprintln(w)

	var status struct {
		InstanceID  string `json:"instance_id"`
		JobsRunning int    `json:"jobs_running"`
		FreeSWITCH  []struct {
			Name      string `json:"name"`
			Connected bool   `json:"connected"`
		} `json:"freeswitch"`
	}
	if err := c.must(ctx, http.StatusOK, http.MethodGet, "/api/v1/status", nil, &status); err != nil {
		return err
	}
	fmt.Fprintf(w, "GET /api/v1/status → instance %s, %d job(s) running, switch nodes %+v\n", status.InstanceID, status.JobsRunning, status.FreeSWITCH)

	var campaigns struct {
		Items []struct {
			ID            int    `json:"id"`
			Name          string `json:"name"`
			TimeZone      string `json:"time_zone"`
			BusinessHours struct{ Start, End string }
		} `json:"items"`
	}
	if err := c.must(ctx, http.StatusOK, http.MethodGet, "/api/v1/campaigns", nil, &campaigns); err != nil {
		return err
	}
	fmt.Fprintln(w, "\nCampaigns (from config.example.yaml):")
	for _, cp := range campaigns.Items {
		fmt.Fprintf(w, "  %d  %-20s %s\n", cp.ID, cp.Name, cp.TimeZone)
	}

	campaign := cfg.Campaigns[0]
	today := store.DateOf(now(), campaign.Location)
	fmt.Fprintf(w, "\nB-2 with history retention R = %d days, start %s (today in %s):\n", cfg.System.HistoryRetentionDays, today, campaign.TimeZone)
	type batch struct {
		ID                int    `json:"id"`
		Name              string `json:"name"`
		StartDate         string `json:"start_date"`
		EndDate           string `json:"end_date"`
		DeleteDate        string `json:"delete_date"`
		HistoryDeleteDate string `json:"history_delete_date"`
		DialGroupIDs      []int  `json:"dial_group_ids"`
	}
	var b batch
	if err := c.must(ctx, http.StatusCreated, http.MethodPost, "/api/v1/batches", map[string]any{
		"name": "Demo " + now().Format("2006-01-02 15:04:05"), "campaign_id": campaign.ID,
		"start_date": today.String(), "memo": "created by kakeru demo",
	}, &b); err != nil {
		return err
	}
	fmt.Fprintf(w, "  POST /api/v1/batches → 201 batch %d: end %s, deletion %s, history deletion %s\n", b.ID, b.EndDate, b.DeleteDate, b.HistoryDeleteDate)

	tooLate := today.AddDays(cfg.System.HistoryRetentionDays - 90).String()
	var refusal struct {
		Error struct{ Code, Message string } `json:"error"`
	}
	code, err = c.do(ctx, http.MethodPatch, fmt.Sprintf("/api/v1/batches/%d", b.ID), map[string]any{"end_date": tooLate}, &refusal)
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "  PATCH end_date %s → %d %s: %s\n", tooLate, code, refusal.Error.Code, refusal.Error.Message)

	if err := c.must(ctx, http.StatusOK, http.MethodPut, fmt.Sprintf("/api/v1/batches/%d/dial-groups", b.ID),
		map[string]any{"dial_group_ids": []int{cfg.DialGroups[0].ID}}, &b); err != nil {
		return err
	}
	fmt.Fprintf(w, "  PUT dial-groups → dial groups %v\n", b.DialGroupIDs)

	if err := demoLists(ctx, c, int64(b.ID), cfg.DialGroups[0].ID, w); err != nil {
		return err
	}

	var list struct {
		Items []batch `json:"items"`
		Total int     `json:"total"`
	}
	if err := c.must(ctx, http.StatusOK, http.MethodGet, fmt.Sprintf("/api/v1/batches?campaign_id=%d", campaign.ID), nil, &list); err != nil {
		return err
	}
	fmt.Fprintf(w, "  GET /api/v1/batches → %d batch(es) in campaign %d\n", list.Total, campaign.ID)

	if err := c.must(ctx, http.StatusNoContent, http.MethodDelete, fmt.Sprintf("/api/v1/batches/%d", b.ID), nil, nil); err != nil {
		return err
	}
	var deletions struct {
		Items []struct {
			BatchID   int64  `json:"batch_id"`
			DeletedBy string `json:"deleted_by"`
			Reason    string `json:"reason"`
		} `json:"items"`
	}
	if err := c.must(ctx, http.StatusOK, http.MethodGet, "/api/v1/batch-deletions", nil, &deletions); err != nil {
		return err
	}
	fmt.Fprintf(w, "  DELETE batch %d → 204; deletion record kept: %+v\n", b.ID, deletions.Items[0])
	fmt.Fprintln(w, "\nWalkthrough finished: the engine answered every call above.")
	return nil
}

// demoLists imports a generated Shift_JIS list, shows a refused file with its problems, assigns
// the list to a dial group and searches it (L-1..L-8, A-1, S-3).
func demoLists(ctx context.Context, c *demoClient, batchID int64, groupID int, w io.Writer) error {
	var good strings.Builder
	good.WriteString("name,kana,tel,remarks\r\n")
	families := []string{"山田", "佐藤", "鈴木", "髙橋", "渡辺"}
	for i := range 200 {
		fmt.Fprintf(&good, "%s %d,%s,0%d0%08d,\"DM送付済み, 第%d便\"\r\n", families[i%5], i, "カナ", 7+i%3, i, 1+i%3)
	}
	var created struct {
		ID       int64 `json:"id"`
		RowCount int   `json:"row_count"`
	}
	if err := c.upload(ctx, http.StatusCreated, batchID, "Demo list", good.String(), &created); err != nil {
		return err
	}
	fmt.Fprintf(w, "  POST lists (Shift_JIS, 200 rows) → 201 list %d with %d contacts\n", created.ID, created.RowCount)

	bad := "name,kana,tel\r\n山田 花子,ヤマダ ハナコ,0312345678\r\n,サトウ,12345\r\n鈴木 一郎,スズキ,070000000000\r\n"
	var refused struct {
		Error struct {
			Details []struct {
				Line    int    `json:"line"`
				Message string `json:"message"`
			} `json:"details"`
		} `json:"error"`
		ErrorCSVURL string `json:"error_csv_url"`
	}
	if err := c.upload(ctx, http.StatusUnprocessableEntity, batchID, "Bad list", bad, &refused); err != nil {
		return err
	}
	fmt.Fprintln(w, "  POST lists (a file with mistakes) → 422, nothing imported:")
	for _, d := range refused.Error.Details {
		fmt.Fprintf(w, "      line %d  %s\n", d.Line, d.Message)
	}
	fmt.Fprintf(w, "    error CSV (Shift_JIS, one error cell per row): %s\n", refused.ErrorCSVURL)

	if err := c.must(ctx, http.StatusCreated, http.MethodPost, fmt.Sprintf("/api/v1/batches/%d/assignments", batchID),
		map[string]any{"list_id": created.ID, "dial_group_id": groupID, "count": created.RowCount}, nil); err != nil {
		return err
	}
	fmt.Fprintf(w, "  POST assignments → list %d handed to dial group %d\n", created.ID, groupID)
	var found struct {
		Total int `json:"total"`
		Items []struct {
			Name      string `json:"name"`
			Tel       string `json:"tel"`
			PhoneType string `json:"phone_type"`
		} `json:"items"`
	}
	if err := c.must(ctx, http.StatusOK, http.MethodGet, fmt.Sprintf("/api/v1/contacts?batch_id=%d&q=%s&limit=3", batchID, url.QueryEscape("髙橋")), nil, &found); err != nil {
		return err
	}
	fmt.Fprintf(w, "  GET contacts?q=髙橋 → %d match(es), e.g. %+v\n", found.Total, found.Items)
	return nil
}

func sjis(s string) ([]byte, error) {
	b, _, err := transform.Bytes(japanese.ShiftJIS.NewEncoder(), []byte(s))
	if err != nil {
		return nil, fmt.Errorf("encode demo list: %w", err)
	}
	return b, nil
}

func (c *demoClient) upload(ctx context.Context, want int, batchID int64, name, text string, out any) error {
	file, err := sjis(text)
	if err != nil {
		return err
	}
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	_ = mw.WriteField("name", name)
	fw, err := mw.CreateFormFile("file", "demo.csv")
	if err != nil {
		return err
	}
	_, _ = fw.Write(file)
	_ = mw.Close()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, fmt.Sprintf("%s/api/v1/batches/%d/lists", c.base, batchID), &body)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+c.token)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	resp, err := c.http.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != want {
		return fmt.Errorf("upload %s answered %d, want %d: %s", name, resp.StatusCode, want, raw)
	}
	return json.Unmarshal(raw, out)
}
