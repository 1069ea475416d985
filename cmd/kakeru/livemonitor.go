package main

import (
	"context"
	"log/slog"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/kakeru-dialer/kakeru/agentstate"
	"github.com/kakeru-dialer/kakeru/config"
	"github.com/kakeru-dialer/kakeru/engine"
	"github.com/kakeru-dialer/kakeru/freeswitch"
	"github.com/kakeru-dialer/kakeru/liveevents"
	"github.com/kakeru-dialer/kakeru/pacing"
	"github.com/kakeru-dialer/kakeru/store"
)

// liveMonitor is the live event plumbing of one instance (S-1): the engine's publisher writes
// to the Redis stream, the hub reads it for this instance's event streams. Both have their own
// Redis connections: the hub's reader blocks on XREAD.
type liveMonitor struct {
	rdb       *redis.Client
	publisher *liveevents.Publisher
	hub       *liveevents.Hub
}

func newLiveMonitor(cfg *config.Config, log *slog.Logger, now func() time.Time) *liveMonitor {
	rdb := redis.NewClient(&redis.Options{Addr: cfg.Redis.Addr, DB: cfg.Redis.DB, Password: cfg.Redis.Password,
		DialTimeout: 2 * time.Second, ReadTimeout: 2 * time.Second, WriteTimeout: 2 * time.Second})
	return &liveMonitor{rdb: rdb,
		publisher: liveevents.NewPublisher(liveevents.PublisherOptions{Redis: rdb, Logger: log.With("component", "events"), Now: now}),
		hub:       liveevents.NewHub(liveevents.HubOptions{Redis: rdb, Logger: log.With("component", "events")})}
}

// close releases the Redis connections once the publisher and the hub have stopped.
func (l *liveMonitor) close() error { return l.rdb.Close() }

// monitorData is what the job monitor reads: live agents (Redis) and the data (PostgreSQL).
type monitorData struct {
	agents *agentstate.Store
	store  *store.Store
}

func (d monitorData) All(ctx context.Context) ([]agentstate.Agent, error) { return d.agents.All(ctx) }
func (d monitorData) JobRunCounts(ctx context.Context, id int64) (store.RunCounts, error) {
	return d.store.JobRunCounts(ctx, id)
}
func (d monitorData) LiveCalls(ctx context.Context, ids []int64) (map[int64]store.LiveCall, error) {
	return d.store.LiveCalls(ctx, ids)
}
func (d monitorData) AnswerBuckets(ctx context.Context, campaign int, since time.Time) ([]store.AnswerBucket, error) {
	return d.store.AnswerBuckets(ctx, campaign, since)
}
func (d monitorData) AbandonBudget(ctx context.Context, camp *config.Campaign, now time.Time) (pacing.AbandonBudget, error) {
	return engine.AbandonBudget(ctx, d.store, camp, now)
}

// supervisor places supervision legs with bgapi; the leg's own events tell what became of it.
type supervisor struct{ pool *freeswitch.Pool }

func (s supervisor) Originate(ctx context.Context, node, cmd string) error {
	_, err := s.pool.BgAPI(ctx, node, cmd)
	return err
}
