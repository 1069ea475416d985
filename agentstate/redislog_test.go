package agentstate_test

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/kakeru-dialer/kakeru/agentstate"
)

// Issue 13 row 17: the Redis client's lines go through slog (JSON when the log is JSON), each
// kind at most once per interval, with the count of those left out.
func TestRedisLogRateLimited(t *testing.T) {
	var buf bytes.Buffer
	now := time.Unix(1000, 0)
	l := agentstate.NewRedisLog(slog.New(slog.NewJSONHandler(&buf, nil)), 10*time.Second, func() time.Time { return now })
	ctx := context.Background()
	for i := 0; i < 50; i++ {
		l.Printf(ctx, "redis: %s: dial tcp 127.0.0.1:6390: connect: connection refused", "pool")
		l.Printf(ctx, "redis: discarding bad connection: %v", "EOF")
		now = now.Add(100 * time.Millisecond) // 5 s in all
	}
	now = now.Add(6 * time.Second)
	l.Printf(ctx, "redis: %s: dial tcp 127.0.0.1:6390: connect: connection refused", "pool")
	var recs []map[string]any
	for _, line := range strings.Split(strings.TrimSpace(buf.String()), "\n") {
		var r map[string]any
		if err := json.Unmarshal([]byte(line), &r); err != nil {
			t.Fatalf("not a JSON record: %q", line)
		}
		recs = append(recs, r)
	}
	if len(recs) != 3 {
		t.Fatalf("%d records, want 3: %s", len(recs), buf.String())
	}
	if recs[0]["msg"] != "redis: pool: dial tcp 127.0.0.1:6390: connect: connection refused" || recs[0]["component"] != "redis" {
		t.Errorf("first record %v", recs[0])
	}
	if recs[2]["repeated"] != float64(49) {
		t.Errorf("third record %v, want repeated 49", recs[2])
	}
}
