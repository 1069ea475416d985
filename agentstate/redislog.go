package agentstate

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"
)

// RedisLog carries the Redis client's own messages (reconnects, pool errors) to slog, one
// record per kind of message per interval: with Redis down the client repeats the same line
// several times a second, which would drown the log. The count of records left out is added
// to the next one of that kind.
type RedisLog struct {
	log   *slog.Logger
	every time.Duration
	now   func() time.Time

	mu   sync.Mutex
	kind map[string]*redisLogKind
}

type redisLogKind struct {
	last    time.Time
	dropped int
}

// NewRedisLog logs through log at warning level, each kind of message at most once per every.
// Install it with redis.SetLogger (the client's logger is process-wide).
func NewRedisLog(log *slog.Logger, every time.Duration, now func() time.Time) *RedisLog {
	return &RedisLog{log: log, every: every, now: now, kind: map[string]*redisLogKind{}}
}

// Printf is the Redis client's logging interface; format is the kind of message.
func (l *RedisLog) Printf(ctx context.Context, format string, v ...any) {
	now := l.now()
	l.mu.Lock()
	k := l.kind[format]
	if k == nil {
		// Bounded: the client's formats are a fixed set of its source lines.
		k = &redisLogKind{}
		l.kind[format] = k
	}
	if !k.last.IsZero() && now.Sub(k.last) < l.every {
		k.dropped++
		l.mu.Unlock()
		return
	}
	dropped := k.dropped
	k.last, k.dropped = now, 0
	l.mu.Unlock()
	attrs := []any{"component", "redis"}
	if dropped > 0 {
		attrs = append(attrs, "repeated", dropped)
	}
	l.log.WarnContext(ctx, fmt.Sprintf(format, v...), attrs...)
}
