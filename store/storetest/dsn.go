package storetest

import (
	"context"
	"testing"

	"github.com/kakeru-dialer/kakeru/store"
)

// DSNOf returns the DSN of the test database s is open on, so a test can open a second Store on
// it (standing for a second engine instance).
func DSNOf(t testing.TB, s *store.Store) string {
	t.Helper()
	var name string
	if err := s.DB().QueryRowContext(context.Background(), `SELECT current_database()`).Scan(&name); err != nil {
		t.Fatalf("storetest: current database: %v", err)
	}
	return withDatabase(AdminDSN(), name)
}
