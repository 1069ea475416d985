package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/kakeru-dialer/kakeru/calendar"
	"github.com/kakeru-dialer/kakeru/store"
	"github.com/kakeru-dialer/kakeru/store/storetest"
)

// lunchCalendar is open on weekdays 09:00-12:00 and 13:00-18:00, closed on 2022-08-02 and on
// Japan's public holidays.
func lunchCalendar(t *testing.T) *calendar.Calendar {
	t.Helper()
	var r calendar.Rules
	for wd := time.Monday; wd <= time.Friday; wd++ {
		r.Week[wd] = []calendar.Span{{From: 9 * 60, To: 12 * 60}, {From: 13 * 60, To: 18 * 60}}
	}
	r.Closed = []calendar.Date{{Year: 2022, Month: time.August, Day: 2}}
	r.Holidays = calendar.HolidaysJP
	c, err := calendar.New(r)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// J-5 with a calendar (J-8): a closed day refuses with closed_day whatever the hour; an open day
// from one hour before its first window until the end of its last, its breaks included.
func TestStartCallJobFollowsCalendar(t *testing.T) {
	f := newJobFixture(t, 4)
	ctx := context.Background()
	j := f.job(t, store.JobFilter{})
	r := rules()
	r.Calendar = lunchCalendar(t)
	for _, c := range []struct{ now, code string }{
		{"2022-08-01 07:59", "outside_business_hours"}, // a Monday
		{"2022-08-01 18:00", "outside_business_hours"},
		{"2022-08-02 10:00", "closed_day"}, // the campaign's closed date
		{"2022-08-11 10:00", "closed_day"}, // Mountain Day
		{"2022-08-06 10:00", "closed_day"}, // a Saturday: no hours
	} {
		_, err := f.s.StartCallJob(ctx, j.ID, r, at(c.now))
		wantRule(t, err, c.code, true)
	}
	started, err := f.s.StartCallJob(ctx, j.ID, r, at("2022-08-01 12:30")) // at lunch: starts, dials at 13:00
	if err != nil {
		t.Fatal(err)
	}
	if started.Status != "running" {
		t.Fatalf("job %+v", started)
	}
}

// J-8: the claim takes a contact with a zone of its own only while the calendar is open there;
// callbacks due wait for their customer's zone too.
func TestClaimFollowsContactZones(t *testing.T) {
	f := newJobFixture(t, 6)
	ctx := context.Background()
	db := f.s.DB()
	// Contacts 0, 1: no zone (the campaign's); 2, 3: New York; 4: Tokyo; 5: a zone the list does
	// not record (never open).
	var ids []int64
	rows, err := db.QueryContext(ctx, `SELECT id FROM contacts WHERE list_id = $1 ORDER BY id`, f.list.ID)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id)
	}
	if err := rows.Close(); err != nil {
		t.Fatal(err)
	}
	for i, z := range []any{nil, nil, "America/New_York", "America/New_York", "Asia/Tokyo", "Europe/Paris"} {
		if _, err := db.ExecContext(ctx, `UPDATE contacts SET time_zone = $2 WHERE id = $1`, ids[i], z); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := db.ExecContext(ctx, `UPDATE customer_lists SET time_zones = '{America/New_York,Asia/Tokyo}' WHERE id = $1`, f.list.ID); err != nil {
		t.Fatal(err)
	}
	// Contact 3 asked to be called back, due now.
	if _, err := db.ExecContext(ctx, `UPDATE contacts SET status = 'callback' WHERE id = $1`, ids[3]); err != nil {
		t.Fatal(err)
	}
	if _, err := db.ExecContext(ctx, `INSERT INTO callbacks (batch_id, contact_id, due_at, created_at, updated_at)
		VALUES ($1, $2, $3, $3, $3)`, f.batch.ID, ids[3], f.now.Add(-time.Minute)); err != nil {
		t.Fatal(err)
	}
	j, err := f.s.StartCallJob(ctx, f.job(t, store.JobFilter{}).ID, rules(), f.now)
	if err != nil {
		t.Fatal(err)
	}
	var asked []string
	tokyoOnly := func(z string) bool { asked = append(asked, z); return z == "Asia/Tokyo" }
	claim := func(open func(string) bool) map[int64]bool {
		t.Helper()
		got, err := f.s.ClaimContacts(ctx, store.ClaimRequest{JobID: j.ID, Run: j.Run, N: 10, Instance: "i1", Node: "fs1",
			NewUUID: seqUUID, OpenZone: open}, f.now)
		if err != nil {
			t.Fatal(err)
		}
		out := map[int64]bool{}
		for _, d := range got {
			out[d.ContactID] = true
		}
		return out
	}
	got := claim(tokyoOnly)
	if len(got) != 3 || !got[ids[0]] || !got[ids[1]] || !got[ids[4]] {
		t.Fatalf("New York closed: claimed %v, want contacts %d, %d, %d", got, ids[0], ids[1], ids[4])
	}
	if len(asked) != 2 {
		t.Errorf("zones asked %v, want the list's two", asked)
	}
	got = claim(func(string) bool { return true })
	if len(got) != 2 || !got[ids[2]] || !got[ids[3]] {
		t.Fatalf("all open: claimed %v, want New York's %d and the callback %d (never Paris, not on the list)", got, ids[2], ids[3])
	}
	if n := storetest.Count(t, f.s, "callbacks", "status = 'dialed'"); n != 1 {
		t.Errorf("%d callbacks dialed, want 1", n)
	}
}
