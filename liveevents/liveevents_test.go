package liveevents

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"go.uber.org/goleak"
)

// Every goroutine of the publisher and the hub ends with Stop.
func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func testRedis(t *testing.T) (*redis.Client, string) {
	t.Helper()
	rdb := redis.NewClient(&redis.Options{Addr: "127.0.0.1:6379", DB: 13})
	if err := rdb.Ping(context.Background()).Err(); err != nil {
		t.Fatalf("redis on 127.0.0.1:6379 (run scripts/services.sh): %v", err)
	}
	key := fmt.Sprintf("kakeru:test:events:%s:%d", t.Name(), time.Now().UnixNano())
	t.Cleanup(func() {
		rdb.Del(context.Background(), key)
		rdb.Close()
	})
	return rdb, key
}

func next(t *testing.T, s *Subscription) Event {
	t.Helper()
	select {
	case e, ok := <-s.C:
		if !ok {
			t.Fatal("subscription closed")
		}
		return e
	case <-time.After(5 * time.Second):
		t.Fatal("no event within 5 s")
	}
	return Event{}
}

// Events published by one instance reach the subscribers of another in order, with stream ids;
// After returns exactly the events after a given id (Last-Event-ID resumption).
func TestPublishSubscribeResume(t *testing.T) {
	rdb, key := testRedis(t)
	ctx := context.Background()
	hub := NewHub(HubOptions{Redis: rdb, Key: key, Block: 100 * time.Millisecond})
	hub.Start(ctx)
	defer hub.Stop()
	pub := NewPublisher(PublisherOptions{Redis: rdb, Key: key})
	pub.Start(ctx)
	sub := hub.Subscribe()
	defer hub.Unsubscribe(sub)
	time.Sleep(200 * time.Millisecond) // the hub has found the stream's end

	for i := range 5 {
		pub.Publish(Event{Type: AgentState, CallJobID: 7, AgentID: 1000 + i, Data: map[string]any{"state": "available"}})
	}
	var got []Event
	for range 5 {
		got = append(got, next(t, sub))
	}
	for i, e := range got {
		if e.AgentID != 1000+i || e.Type != AgentState || e.ID == "" || e.At.IsZero() {
			t.Fatalf("event %d: %+v", i, e)
		}
		if i > 0 {
			a, _ := ParseID(e.ID)
			b, _ := ParseID(got[i-1].ID)
			if !a.After(b) {
				t.Fatalf("ids out of order: %s after %s", e.ID, got[i-1].ID)
			}
		}
	}
	missed, err := hub.After(ctx, got[1].ID, 100)
	if err != nil {
		t.Fatal(err)
	}
	if len(missed) != 3 || missed[0].ID != got[2].ID || missed[2].ID != got[4].ID {
		t.Fatalf("after %s: %+v", got[1].ID, missed)
	}
	pub.Stop()
	if n := pub.Dropped(); n != 0 {
		t.Fatalf("dropped %d", n)
	}
}

// Stop writes what was queued; trimming keeps every entry younger than the retention.
func TestPublisherFlushesAndTrims(t *testing.T) {
	rdb, key := testRedis(t)
	ctx := context.Background()
	pub := NewPublisher(PublisherOptions{Redis: rdb, Key: key, Retention: time.Hour})
	pub.Start(ctx)
	for i := range 300 {
		pub.Publish(Event{Type: JobCounts, CallJobID: int64(i)})
	}
	pub.Stop()
	if n := rdb.XLen(ctx, key).Val(); n != 300 {
		t.Fatalf("stream holds %d entries, want 300", n)
	}
}

// A subscriber that does not read is cut off (it resumes from history) instead of blocking
// the others; Stop closes every subscription.
func TestHubCutsOffLaggards(t *testing.T) {
	rdb, key := testRedis(t)
	ctx := context.Background()
	hub := NewHub(HubOptions{Redis: rdb, Key: key, Block: 100 * time.Millisecond, Buffer: 2})
	hub.Start(ctx)
	slow, fast := hub.Subscribe(), hub.Subscribe()
	time.Sleep(200 * time.Millisecond)
	for i := range 4 {
		rdb.XAdd(ctx, &redis.XAddArgs{Stream: key, Values: []string{"e", Event{Type: JobState, CallJobID: int64(i)}.encode()}})
		next(t, fast)
	}
	for range slow.C {
	}
	if !slow.Lagged() {
		t.Fatal("the slow subscriber was not marked lagged")
	}
	hub.Stop()
	if _, ok := <-fast.C; ok {
		t.Fatal("subscription open after Stop")
	}
}
