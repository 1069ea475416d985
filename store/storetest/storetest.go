// Package storetest gives tests their own migrated PostgreSQL database, so test packages can run
// in parallel against one server without seeing each other's rows.
package storetest

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"net/url"
	"os"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/lib/pq"

	"github.com/kakeru-dialer/kakeru/store"
)

// AdminDSN is the maintenance database tests create their databases from. KAKERU_TEST_PG_DSN
// overrides it.
func AdminDSN() string {
	if v := os.Getenv("KAKERU_TEST_PG_DSN"); v != "" {
		return v
	}
	return "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"
}

var templateOnce sync.Map // template name → *sync.Once-guarded error

type onceErr struct {
	once sync.Once
	err  error
}

// DSN returns the DSN of a fresh database for this test, cloned from a migrated template and
// dropped when the test ends.
func DSN(t testing.TB) string {
	t.Helper()
	admin, err := sql.Open("postgres", AdminDSN())
	if err != nil {
		t.Fatalf("storetest: %v", err)
	}
	defer admin.Close()
	tmpl := templateName()
	oe, _ := templateOnce.LoadOrStore(tmpl, &onceErr{})
	o := oe.(*onceErr)
	o.once.Do(func() { o.err = ensureTemplate(context.Background(), admin, tmpl) })
	if o.err != nil {
		t.Fatalf("storetest: template database: %v", o.err)
	}
	return cloneDB(t, admin, tmpl, "")
}

// EmptyDSN returns the DSN of a fresh database without any schema, dropped when the test ends.
func EmptyDSN(t testing.TB) string {
	t.Helper()
	admin, err := sql.Open("postgres", AdminDSN())
	if err != nil {
		t.Fatalf("storetest: %v", err)
	}
	defer admin.Close()
	return cloneDB(t, admin, "template0", "_empty")
}

func cloneDB(t testing.TB, admin *sql.DB, tmpl, suffix string) string {
	t.Helper()
	ctx := context.Background()
	name := dbName(t) + suffix
	conn, err := admin.Conn(ctx)
	if err != nil {
		t.Fatalf("storetest: %v", err)
	}
	defer conn.Close()
	// CREATE DATABASE … TEMPLATE fails while another session copies the same template: take
	// turns across test processes.
	if _, err := conn.ExecContext(ctx, `SELECT pg_advisory_lock(hashtext('kakeru.storetest.create'))`); err != nil {
		t.Fatalf("storetest: lock: %v", err)
	}
	_, _ = conn.ExecContext(ctx, `DROP DATABASE IF EXISTS `+pq.QuoteIdentifier(name)+` WITH (FORCE)`)
	_, err = conn.ExecContext(ctx, `CREATE DATABASE `+pq.QuoteIdentifier(name)+` TEMPLATE `+pq.QuoteIdentifier(tmpl))
	_, _ = conn.ExecContext(ctx, `SELECT pg_advisory_unlock(hashtext('kakeru.storetest.create'))`)
	var pqErr *pq.Error
	if errors.As(err, &pqErr) && pqErr.Code == "3D000" && tmpl != "template0" {
		// Another checkout with other migrations replaced the template meanwhile: build it again.
		if err = ensureTemplate(ctx, admin, tmpl); err == nil {
			return cloneDB(t, admin, tmpl, suffix)
		}
	}
	if err != nil {
		t.Fatalf("storetest: create database %s: %v", name, err)
	}
	t.Cleanup(func() {
		admin, err := sql.Open("postgres", AdminDSN())
		if err != nil {
			return
		}
		defer admin.Close()
		_, _ = admin.Exec(`DROP DATABASE IF EXISTS ` + pq.QuoteIdentifier(name) + ` WITH (FORCE)`)
	})
	return withDatabase(AdminDSN(), name)
}

// New opens a Store on a fresh database for this test.
func New(t testing.TB) *store.Store {
	t.Helper()
	s, err := store.Open(context.Background(), DSN(t))
	if err != nil {
		t.Fatalf("storetest: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// templateName changes whenever the migrations change, so a stale template is never used.
func templateName() string {
	h := sha256.New()
	for _, m := range store.MigrationSources() {
		h.Write([]byte(m))
	}
	return "kakeru_tmpl_" + hex.EncodeToString(h.Sum(nil))[:12]
}

func ensureTemplate(ctx context.Context, admin *sql.DB, name string) error {
	conn, err := admin.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, `SELECT pg_advisory_lock(hashtext('kakeru.storetest.create'))`); err != nil {
		return err
	}
	defer conn.ExecContext(ctx, `SELECT pg_advisory_unlock(hashtext('kakeru.storetest.create'))`)
	var ok bool
	if err := conn.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)`, name).Scan(&ok); err != nil {
		return err
	}
	if ok {
		return nil
	}
	dropStaleTemplates(ctx, conn, name)
	building := name + "_build"
	_, _ = conn.ExecContext(ctx, `DROP DATABASE IF EXISTS `+pq.QuoteIdentifier(building)+` WITH (FORCE)`)
	if _, err := conn.ExecContext(ctx, `CREATE DATABASE `+pq.QuoteIdentifier(building)); err != nil {
		return err
	}
	db, err := sql.Open("postgres", withDatabase(AdminDSN(), building))
	if err != nil {
		return err
	}
	_, err = store.Migrate(ctx, db, nil)
	db.Close()
	if err != nil {
		return err
	}
	// Renamed only once complete, so a crash never leaves a half-migrated template behind.
	_, err = conn.ExecContext(ctx, `ALTER DATABASE `+pq.QuoteIdentifier(building)+` RENAME TO `+pq.QuoteIdentifier(name))
	return err
}

var unsafeChars = regexp.MustCompile(`[^a-z0-9_]+`)

func dbName(t testing.TB) string {
	n := unsafeChars.ReplaceAllString(strings.ToLower(t.Name()), "_")
	sum := sha256.Sum256([]byte(t.Name()))
	if len(n) > 30 {
		n = n[:30]
	}
	return fmt.Sprintf("kakeru_t_%s_%s_%d", n, hex.EncodeToString(sum[:])[:8], os.Getpid()%100000)
}

func withDatabase(dsn, name string) string {
	u, err := url.Parse(dsn)
	if err != nil {
		return dsn
	}
	u.Path = "/" + name
	return u.String()
}

// dropStaleTemplates removes templates of earlier migration sets, left behind when the schema
// changed.
func dropStaleTemplates(ctx context.Context, conn *sql.Conn, current string) {
	rows, err := conn.QueryContext(ctx, `SELECT datname FROM pg_database WHERE datname LIKE 'kakeru\_tmpl\_%' AND datname <> $1`, current)
	if err != nil {
		return
	}
	var stale []string
	for rows.Next() {
		var n string
		if rows.Scan(&n) == nil {
			stale = append(stale, n)
		}
	}
	rows.Close()
	for _, n := range stale {
		_, _ = conn.ExecContext(ctx, `DROP DATABASE IF EXISTS `+pq.QuoteIdentifier(n)+` WITH (FORCE)`)
	}
}
