package store_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kakeru-dialer/kakeru/store"
	"github.com/kakeru-dialer/kakeru/store/storetest"
)

func fixtureTel(i int) string {
	if i%2 == 1 {
		return fmt.Sprintf("031%08d", i)
	}
	return fmt.Sprintf("090%08d", i)
}

func addDNC(t *testing.T, s *store.Store, campaign int, tel string) {
	t.Helper()
	if _, _, err := s.AddDoNotCall(context.Background(), store.DNCEntry{Tel: tel, CampaignID: campaign, Reason: "asked",
		AddedBy: "admin"}, at("2022-08-01 09:00")); err != nil {
		t.Fatal(err)
	}
}

// N-1: the claim skips a number on the global list or on the job's campaign list, records the
// skip with its reason and completes the contact; another campaign's list does not apply; the
// number checked is the one that would be dialed (redial_tel when set).
func TestClaimSkipsDoNotCallNumbers(t *testing.T) {
	f := newJobFixture(t, 6)
	ctx := context.Background()
	camp := f.batch.CampaignID
	addDNC(t, f.s, store.GlobalDNC, fixtureTel(0))
	addDNC(t, f.s, camp, "031-0000-0001") // normalised to fixtureTel(1)
	addDNC(t, f.s, camp+1, fixtureTel(2)) // another campaign's list: not applied
	addDNC(t, f.s, camp, "0120999999")
	// Contact 3 asked to be redialed on a listed number; contact 4's own number is listed but
	// it is redialed on another one.
	if _, err := f.s.DB().ExecContext(ctx, `UPDATE contacts SET redial_tel = '0120999999' WHERE list_id = $1 AND tel = $2`,
		f.list.ID, fixtureTel(3)); err != nil {
		t.Fatal(err)
	}
	addDNC(t, f.s, camp, fixtureTel(4))
	if _, err := f.s.DB().ExecContext(ctx, `UPDATE contacts SET redial_tel = '0120888888' WHERE list_id = $1 AND tel = $2`,
		f.list.ID, fixtureTel(4)); err != nil {
		t.Fatal(err)
	}
	j, err := f.s.StartCallJob(ctx, f.job(t, store.JobFilter{}).ID, rules(), f.now)
	if err != nil {
		t.Fatal(err)
	}
	got, err := f.s.ClaimContacts(ctx, store.ClaimRequest{JobID: j.ID, Run: j.Run, N: 10, Instance: "i", Node: "fs1", NewUUID: seqUUID}, f.now)
	if err != nil {
		t.Fatal(err)
	}
	dialed := map[string]bool{}
	for _, d := range got {
		dialed[d.Tel] = true
	}
	if len(got) != 3 || !dialed[fixtureTel(2)] || !dialed["0120888888"] || !dialed[fixtureTel(5)] {
		t.Fatalf("dialed %v, want the numbers 2, 4's redial number (not listed) and 5", dialed)
	}
	type skip struct {
		Tel, Reason, Status string
		Ended               bool
		Count               int
	}
	var skips []skip
	rows, err := f.s.DB().QueryContext(ctx, `SELECT a.tel, a.skip_reason, c.status, a.ended_at = a.started_at, c.attempt_count
		FROM attempts a JOIN contacts c ON c.id = a.contact_id WHERE a.outcome = 'skipped' ORDER BY c.id`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var s skip
		if err := rows.Scan(&s.Tel, &s.Reason, &s.Status, &s.Ended, &s.Count); err != nil {
			t.Fatal(err)
		}
		skips = append(skips, s)
	}
	want := []skip{
		{fixtureTel(0), "do_not_call:global", "complete", true, 0},
		{fixtureTel(1), "do_not_call:campaign", "complete", true, 0},
		{"0120999999", "do_not_call:campaign", "complete", true, 0},
	}
	if fmt.Sprint(skips) != fmt.Sprint(want) {
		t.Fatalf("skipped attempts %v, want %v", skips, want)
	}
	// Skips are no dials: not in the job's counts, not against its target.
	c, err := f.s.JobRunCounts(ctx, j.ID)
	if err != nil {
		t.Fatal(err)
	}
	if c.Dialed != 3 {
		t.Errorf("job counts %d dialed, want 3", c.Dialed)
	}
	// A skipped contact is complete: never claimed again.
	again, err := f.s.ClaimContacts(ctx, store.ClaimRequest{JobID: j.ID, Run: j.Run, N: 10, Instance: "i", Node: "fs1", NewUUID: seqUUID}, f.now)
	if err != nil || len(again) != 0 {
		t.Fatalf("second claim %v %v", again, err)
	}
}

// N-1: add, list by prefix, remove with its trail, export, import counting added and present.
func TestDoNotCallListLifecycle(t *testing.T) {
	s := storetest.New(t)
	ctx := context.Background()
	now := at("2022-08-01 09:00")
	e, added, err := s.AddDoNotCall(ctx, store.DNCEntry{Tel: "０９０－１１１１－２２２２", CampaignID: 3, Reason: "苦情", AddedBy: "sv1"}, now)
	if err != nil || !added || e.Tel != "09011112222" || e.Source != store.DNCSourceAPI || e.AddedBy != "sv1" {
		t.Fatalf("add: %+v %v %v", e, added, err)
	}
	if _, added, err := s.AddDoNotCall(ctx, store.DNCEntry{Tel: "09011112222", CampaignID: 3, AddedBy: "x"}, now); err != nil || added {
		t.Fatalf("second add: %v %v", added, err)
	}
	var re *store.RuleError
	if _, _, err := s.AddDoNotCall(ctx, store.DNCEntry{Tel: "1234", CampaignID: 3, AddedBy: "x"}, now); !errors.As(err, &re) || re.Code != "invalid_tel" {
		t.Fatalf("bad number: %v", err)
	}
	res, err := s.ImportDoNotCall(ctx, 3, "admin", now, func(add func(store.DNCRow) error) error {
		for _, tel := range []string{"09011112222", "0312345678", "0312345679", "0312345678"} {
			if err := add(store.DNCRow{Tel: tel, Reason: "file"}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil || res.Rows != 4 || res.Added != 2 || res.AlreadyPresent != 1 || res.Repeated != 1 || res.VacuumErr != nil {
		t.Fatalf("import: %+v %v", res, err)
	}
	// The import leaves the list vacuumed: look-ups read the index alone (a list just imported
	// otherwise halves the speed of a customer-list import checked against it).
	var vacuumed bool
	if err := s.DB().QueryRowContext(ctx, `SELECT last_vacuum IS NOT NULL FROM pg_stat_user_tables WHERE relname = 'do_not_call'`).Scan(&vacuumed); err != nil {
		t.Fatal(err)
	}
	if !vacuumed {
		t.Fatal("do_not_call not vacuumed after the import")
	}
	// A failing feed writes nothing.
	boom := errors.New("boom")
	if _, err := s.ImportDoNotCall(ctx, 3, "admin", now, func(add func(store.DNCRow) error) error {
		if err := add(store.DNCRow{Tel: "0399999999"}); err != nil {
			return err
		}
		return boom
	}); !errors.Is(err, boom) {
		t.Fatalf("failing import: %v", err)
	}
	list, total, err := s.ListDoNotCall(ctx, store.DNCFilter{CampaignID: 3, Prefix: "03-12", Limit: 1})
	if err != nil || total != 2 || len(list) != 1 || list[0].Tel != "0312345678" || list[0].Source != store.DNCSourceImport {
		t.Fatalf("list: %+v %d %v", list, total, err)
	}
	if err := s.RemoveDoNotCall(ctx, 3, "0312345678", "requested by customer", "sv2", now.Add(1)); err != nil {
		t.Fatal(err)
	}
	if err := s.RemoveDoNotCall(ctx, 3, "0312345678", "", "sv2", now); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("remove twice: %v", err)
	}
	rm, n, err := s.DoNotCallRemovals(ctx, 3, 10, 0)
	if err != nil || n != 1 || rm[0].RemovedBy != "sv2" || rm[0].RemovalReason != "requested by customer" || rm[0].AddedBy != "admin" {
		t.Fatalf("removals: %+v %v", rm, err)
	}
	var tels []string
	if err := s.ExportDoNotCall(ctx, 3, func(e store.DNCEntry) error { tels = append(tels, e.Tel); return nil }); err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(tels) != "[0312345679 09011112222]" {
		t.Fatalf("export %v", tels)
	}
}

// N-1 acceptance: two instances (two Stores on one database) claim concurrently while numbers
// of the list are added to the campaign's do-not-call list one by one: no claim that started
// after an add committed dials that number; it is skipped instead.
func TestDoNotCallAddRacesTwoInstances(t *testing.T) {
	const n = 400
	f := newJobFixture(t, n)
	ctx := context.Background()
	dsn := storetest.DSNOf(t, f.s)
	var instances [2]*store.Store
	for i := range instances {
		s, err := store.Open(ctx, dsn)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		instances[i] = s
	}
	j, err := f.s.StartCallJob(ctx, f.job(t, store.JobFilter{}).ID, rules(), f.now)
	if err != nil {
		t.Fatal(err)
	}
	// A logical clock: each claim takes the next tick before it begins, so its attempts'
	// started_at tell whether it began after a given add had committed.
	var clock, uuids atomic.Int64
	tick := func() time.Time { return f.now.Add(time.Duration(clock.Add(1)) * time.Millisecond) }
	newUUID := func() string { return fmt.Sprintf("00000000-0000-4000-9000-%012d", uuids.Add(1)) }
	started := make(chan struct{})
	var once sync.Once
	var wg sync.WaitGroup
	errs := make(chan error, 3)
	for i, s := range instances {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				got, err := s.ClaimContacts(ctx, store.ClaimRequest{JobID: j.ID, Run: j.Run, N: 3,
					Instance: fmt.Sprintf("i%d", i), Node: "fs1", NewUUID: newUUID}, tick())
				if err != nil {
					errs <- err
					return
				}
				once.Do(func() { close(started) })
				if len(got) > 0 {
					continue
				}
				var left int // none dialed: all skipped, or nothing left
				if err := s.DB().QueryRowContext(ctx, `SELECT count(*) FROM contacts WHERE list_id = $1
					AND status = 'eligible' AND claimed_by_job IS NULL`, f.list.ID).Scan(&left); err != nil || left == 0 {
					if err != nil {
						errs <- err
					}
					return
				}
			}
		}()
	}
	// The adder lists the numbers the claim order reaches last, one by one, noting the clock
	// once each add has committed.
	committed := map[string]time.Time{}
	wg.Add(1)
	go func() {
		defer wg.Done()
		<-started
		for i := n - 1; i >= n-60; i-- {
			tel := fixtureTel(i)
			if _, _, err := f.s.AddDoNotCall(ctx, store.DNCEntry{Tel: tel, CampaignID: f.batch.CampaignID, AddedBy: "sv"}, f.now); err != nil {
				errs <- err
				return
			}
			committed[tel] = f.now.Add(time.Duration(clock.Load()) * time.Millisecond)
		}
	}()
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	skipped := 0
	for tel, at := range committed {
		var late, skips int
		if err := f.s.DB().QueryRowContext(ctx, `SELECT count(*) FILTER (WHERE outcome <> 'skipped' AND started_at > $2),
			count(*) FILTER (WHERE outcome = 'skipped') FROM attempts WHERE tel = $1`, tel, at).Scan(&late, &skips); err != nil {
			t.Fatal(err)
		}
		if late > 0 {
			t.Errorf("%s dialed by a claim that began after its add committed", tel)
		}
		skipped += skips
	}
	if skipped == 0 {
		t.Error("no number was skipped: the adds came too late to test anything")
	}
	if left := storetest.Count(t, f.s, "contacts", "status = 'eligible' AND claimed_by_job IS NULL"); left != 0 {
		t.Errorf("%d contacts never claimed", left)
	}
	t.Logf("%d numbers skipped, %d ticks", skipped, clock.Load())
}

// N-1: a claim that begins while an add to its list is in flight waits for the add's commit and
// then skips the number (without the lists' locks it would not see the uncommitted add and would
// dial it, committing after the add).
func TestClaimWaitsForAnAddInFlight(t *testing.T) {
	f := newJobFixture(t, 1)
	ctx := context.Background()
	j, err := f.s.StartCallJob(ctx, f.job(t, store.JobFilter{}).ID, rules(), f.now)
	if err != nil {
		t.Fatal(err)
	}
	add, err := f.s.DB().BeginTx(ctx, nil) // an add as AddDoNotCall makes it (rows, then the lock), held open
	if err != nil {
		t.Fatal(err)
	}
	defer add.Rollback()
	if _, err := add.ExecContext(ctx, `INSERT INTO do_not_call (tel, campaign_id, source, added_by, added_at)
		VALUES ($1, $2, 'api', 'sv', now())`, fixtureTel(0), f.batch.CampaignID); err != nil {
		t.Fatal(err)
	}
	if _, err := add.ExecContext(ctx, `SELECT pg_advisory_xact_lock($1, $2)`, 0x444E43, f.batch.CampaignID); err != nil {
		t.Fatal(err)
	}
	type result struct {
		got []store.DialTarget
		err error
	}
	done := make(chan result, 1)
	go func() {
		got, err := f.s.ClaimContacts(ctx, store.ClaimRequest{JobID: j.ID, Run: j.Run, N: 1, Instance: "i", Node: "fs1",
			NewUUID: func() string { return "00000000-0000-4000-8000-00000000a001" }}, f.now)
		done <- result{got, err}
	}()
	// Wait until the claim waits for the list's lock.
	for waiting := 0; waiting == 0; {
		select {
		case r := <-done:
			t.Fatalf("the claim did not wait for the add: %+v", r)
		default:
		}
		if err := f.s.DB().QueryRowContext(ctx, `SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted`).Scan(&waiting); err != nil {
			t.Fatal(err)
		}
	}
	if err := add.Commit(); err != nil {
		t.Fatal(err)
	}
	r := <-done
	if r.err != nil || len(r.got) != 0 {
		t.Fatalf("claim after the add: %+v", r)
	}
	if n := storetest.Count(t, f.s, "attempts", "outcome = 'skipped' AND tel = $1", fixtureTel(0)); n != 1 {
		t.Fatalf("%d skipped attempts", n)
	}
}

// N-1: a disposition whose result code is marked do_not_call puts the number dialed and the
// contact's own number on the campaign's list, in its transaction, and completes the contact
// even when it asked for a callback.
func TestDispositionAddsToDoNotCall(t *testing.T) {
	f := newJobFixture(t, 1)
	ctx := context.Background()
	if _, err := f.s.DB().ExecContext(ctx, `UPDATE contacts SET redial_tel = '0120777777' WHERE list_id = $1`, f.list.ID); err != nil {
		t.Fatal(err)
	}
	j, err := f.s.StartCallJob(ctx, f.job(t, store.JobFilter{}).ID, rules(), f.now)
	if err != nil {
		t.Fatal(err)
	}
	got, err := f.s.ClaimContacts(ctx, store.ClaimRequest{JobID: j.ID, Run: j.Run, N: 1, Instance: "i", Node: "fs1", NewUUID: seqUUID}, f.now)
	if err != nil || len(got) != 1 {
		t.Fatalf("claim %v %v", got, err)
	}
	// The attempt dialed the redial number, as the claim of the other number will.
	if _, err := f.s.DB().ExecContext(ctx, `UPDATE attempts SET tel = '0120777777' WHERE id = $1`, got[0].AttemptID); err != nil {
		t.Fatal(err)
	}
	if _, err := f.s.FinishAttempt(ctx, store.AttemptEnd{ChannelUUID: got[0].ChannelUUID, Outcome: "connected", EndedAt: f.now}); err != nil {
		t.Fatal(err)
	}
	cb := f.now.Add(time.Hour)
	if err := f.s.SaveDisposition(ctx, store.NewDisposition{AttemptID: got[0].AttemptID, Party: "self", ResultCode: "do_not_call",
		NextAction: "callback", CallbackAt: &cb, SavedBy: "agent-1001", DoNotCall: true}, f.now); err != nil {
		t.Fatal(err)
	}
	list, _, err := f.s.ListDoNotCall(ctx, store.DNCFilter{CampaignID: f.batch.CampaignID})
	if err != nil || len(list) != 2 || list[0].Tel != "0120777777" || list[1].Tel != fixtureTel(0) ||
		list[0].Source != store.DNCSourceDisposition || list[0].AddedBy != "agent-1001" || list[0].Reason != "result code do_not_call" {
		t.Fatalf("list %+v %v", list, err)
	}
	if n := storetest.Count(t, f.s, "contacts", "status = 'complete'"); n != 1 {
		t.Fatal("the contact is not complete")
	}
	if n := storetest.Count(t, f.s, "callbacks", "true"); n != 0 {
		t.Fatal("a callback was scheduled")
	}
}
