package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/lib/pq"

	"github.com/kakeru-dialer/kakeru/store"
	"github.com/kakeru-dialer/kakeru/store/storetest"
)

// Issue 13 row 1: a pool with a statement timeout ends a statement that runs longer, in either
// DSN form, and says so; the pool stays usable.
func TestPoolStatementTimeout(t *testing.T) {
	dsn := storetest.DSN(t)
	for _, d := range []string{dsn, toKeyValue(t, dsn)} {
		s, err := store.OpenPool(context.Background(), d, store.Pool{MaxConns: 2, StatementTimeout: 200 * time.Millisecond})
		if err != nil {
			t.Fatal(err)
		}
		_, err = s.DB().Exec(`SELECT pg_sleep(5)`)
		if !store.IsStatementTimeout(err) {
			t.Errorf("%s: pg_sleep(5) gave %v, want a statement timeout", d, err)
		}
		if err := s.Ping(context.Background()); err != nil {
			t.Errorf("pool after the timeout: %v", err)
		}
		// No JIT: it cost a claim on a million-contact list a quarter of a second of compiling.
		var jit string
		if err := s.DB().QueryRow(`SHOW jit`).Scan(&jit); err != nil || jit != "off" {
			t.Errorf("%s: jit %q, %v; want off", d, jit, err)
		}
		s.Close()
	}
}

func toKeyValue(t *testing.T, dsn string) string {
	t.Helper()
	kv, err := pq.ParseURL(dsn)
	if err != nil {
		t.Fatalf("%s: %v", dsn, err)
	}
	return kv
}
