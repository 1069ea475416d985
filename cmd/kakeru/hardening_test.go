package main

import (
	"database/sql"
	"net"
	"net/http"
	"testing"
	"time"
)

// Issue 13 row 3: the open connections are capped (http.max_connections): idle or slow clients
// beyond it wait in the backlog, and one leaving lets the next in.
func TestConnectionCap(t *testing.T) {
	path := testConfig(t, fakeSwitch(t))
	t.Setenv("KAKERU_HTTP_MAX_CONNECTIONS", "16")
	m := startMain(t, path)
	var held []net.Conn
	for range 16 {
		c, err := net.Dial("tcp", m.Addr())
		if err != nil {
			t.Fatal(err)
		}
		held = append(held, c)
	}
	// Make sure the server has accepted the 16: each sends one byte of a request line.
	for _, c := range held {
		if _, err := c.Write([]byte("G")); err != nil {
			t.Fatal(err)
		}
	}
	client := &http.Client{Timeout: 500 * time.Millisecond}
	if resp, err := client.Get("http://" + m.Addr() + "/healthz"); err == nil {
		resp.Body.Close()
		t.Fatal("a 17th connection was served while 16 were open")
	}
	held[0].Close()
	client.Timeout = 5 * time.Second
	resp, err := client.Get("http://" + m.Addr() + "/healthz")
	if err != nil {
		t.Fatalf("after one left: %v", err)
	}
	resp.Body.Close()
	for _, c := range held[1:] {
		c.Close()
	}
}

// Issue 13 row 1: the HTTP API queries PostgreSQL through a pool of its own, its statements
// bounded by postgres.api_statement_timeout; the engine's pool is apart and unbounded, so heavy
// requests can neither starve the engine of connections nor run for ever.
func TestAPIPoolApartAndBounded(t *testing.T) {
	path := testConfig(t, fakeSwitch(t))
	t.Setenv("KAKERU_POSTGRES_API_MAX_CONNS", "3")
	t.Setenv("KAKERU_POSTGRES_API_STATEMENT_TIMEOUT", "7s")
	m := startMain(t, path)
	if m.apiStore == m.store {
		t.Fatal("the API shares the engine's pool")
	}
	show := func(db *sql.DB) string {
		var v string
		if err := db.QueryRow(`SHOW statement_timeout`).Scan(&v); err != nil {
			t.Fatal(err)
		}
		return v
	}
	if api, eng := show(m.apiStore.DB()), show(m.store.DB()); api != "7s" || eng != "0" {
		t.Errorf("statement_timeout: API %q, engine %q", api, eng)
	}
	if n := m.apiStore.DB().Stats().MaxOpenConnections; n != 3 {
		t.Errorf("API pool of %d connections, want 3", n)
	}
}
