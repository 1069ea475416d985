package store

import (
	"context"
	"database/sql"
	"embed"
	"fmt"
	"io/fs"
	"log/slog"

	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"
)

//go:embed migrations/*.sql
var migrationFiles embed.FS

// Migration is one schema version and whether it is applied.
type Migration struct {
	Version int64
	Name    string
	Applied bool
}

func newMigrator(db *sql.DB, logger *slog.Logger) (*goose.Provider, error) {
	sub, err := fs.Sub(migrationFiles, "migrations")
	if err != nil {
		return nil, fmt.Errorf("migrations: %w", err)
	}
	// A session lock (PostgreSQL advisory lock) lets several instances run migrate at once.
	locker, err := lock.NewPostgresSessionLocker()
	if err != nil {
		return nil, fmt.Errorf("migration lock: %w", err)
	}
	opts := []goose.ProviderOption{goose.WithSessionLocker(locker), goose.WithDisableGlobalRegistry(true)}
	if logger != nil {
		opts = append(opts, goose.WithSlog(logger))
	}
	p, err := goose.NewProvider(goose.DialectPostgres, db, sub, opts...)
	if err != nil {
		return nil, fmt.Errorf("migrations: %w", err)
	}
	return p, nil
}

// Migrate applies every pending migration and returns the versions it applied (none when the
// schema is current: it is idempotent).
func Migrate(ctx context.Context, db *sql.DB, logger *slog.Logger) ([]Migration, error) {
	p, err := newMigrator(db, logger)
	if err != nil {
		return nil, err
	}
	results, err := p.Up(ctx)
	if err != nil {
		return nil, fmt.Errorf("migrate: %w", err)
	}
	applied := make([]Migration, 0, len(results))
	for _, r := range results {
		applied = append(applied, Migration{Version: r.Source.Version, Name: r.Source.Path, Applied: true})
	}
	return applied, nil
}

// MigrationStatus lists every known migration and whether it is applied.
func MigrationStatus(ctx context.Context, db *sql.DB) ([]Migration, error) {
	p, err := newMigrator(db, nil)
	if err != nil {
		return nil, err
	}
	st, err := p.Status(ctx)
	if err != nil {
		return nil, fmt.Errorf("migration status: %w", err)
	}
	out := make([]Migration, 0, len(st))
	for _, m := range st {
		out = append(out, Migration{Version: m.Source.Version, Name: m.Source.Path, Applied: m.State == goose.StateApplied})
	}
	return out, nil
}

// MigrationSources returns the text of every embedded migration in order, for fingerprinting.
func MigrationSources() []string {
	entries, _ := fs.ReadDir(migrationFiles, "migrations")
	out := make([]string, 0, len(entries))
	for _, e := range entries {
		b, _ := fs.ReadFile(migrationFiles, "migrations/"+e.Name())
		out = append(out, e.Name()+"\n"+string(b))
	}
	return out
}
