package store_test

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/kakeru-dialer/kakeru/domain"
	"github.com/kakeru-dialer/kakeru/store"
	"github.com/kakeru-dialer/kakeru/store/storetest"
)

// Issue 15: a recording's start is stored once, its end with or without a size, and the lookup
// tells the API whose attempt it is and whether the file is complete.
func TestRecordingLifecycle(t *testing.T) {
	s := storetest.New(t)
	ctx := context.Background()
	b := newBatch(t, s, at("2026-03-01 10:00"), "2026-03-10")
	a := storetest.AddAttempt(t, s, b.ID, at("2026-03-10 10:00"), "in_progress")
	plain := storetest.AddAttempt(t, s, b.ID, at("2026-03-10 10:01"), "no_answer")

	if err := s.StartRecording(ctx, 999999, "1/x.wav", at("2026-03-10 10:00")); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("start on no attempt: %v", err)
	}
	for _, bad := range []string{"", "/etc/passwd", "../x.wav", "1/../../x.wav", "1//x.wav", "1/x.wav\n"} {
		if err := s.StartRecording(ctx, a, bad, at("2026-03-10 10:00")); err == nil {
			t.Errorf("start with path %q accepted", bad)
		}
	}
	started := at("2026-03-10 10:00").Add(12 * time.Second)
	if err := s.StartRecording(ctx, a, "1/2026-03-10/7.wav", started); err != nil {
		t.Fatal(err)
	}
	// Idempotent: a second start (the agent asks again) keeps the first path and time.
	if err := s.StartRecording(ctx, a, "1/2026-03-10/7-again.wav", started.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	info, err := s.AttemptRecording(ctx, a)
	if err != nil {
		t.Fatal(err)
	}
	if info.Path != "1/2026-03-10/7.wav" || info.StartedAt == nil || !info.StartedAt.Equal(started) ||
		info.DurationMs != nil || info.Bytes != nil || info.BatchID != b.ID || info.CampaignID != 1 || info.Outcome != domain.OutcomeInProgress {
		t.Fatalf("recording after start: %+v", info)
	}
	now := at("2026-03-10 10:05")
	if info.Finished(now, 30*time.Second) {
		t.Fatal("a recording of a call in progress is finished")
	}

	// The call ends without the recording's end: complete once the settling time has passed.
	ended := at("2026-03-10 10:04")
	if _, err := s.DB().ExecContext(ctx, `UPDATE attempts SET outcome = 'connected', ended_at = $2, agent_id = 1001 WHERE id = $1`, a, ended); err != nil {
		t.Fatal(err)
	}
	info, _ = s.AttemptRecording(ctx, a)
	if info.Finished(ended.Add(10*time.Second), 30*time.Second) || !info.Finished(ended.Add(30*time.Second), 30*time.Second) {
		t.Fatalf("settling of an ended call's recording: %+v", info)
	}
	if info.AgentID == nil || *info.AgentID != 1001 {
		t.Fatalf("agent of the attempt: %+v", info)
	}

	// Size unknown: NULL; then known.
	if err := s.FinishRecording(ctx, a, 3*time.Minute+500*time.Millisecond, -1); err != nil {
		t.Fatal(err)
	}
	info, _ = s.AttemptRecording(ctx, a)
	if info.DurationMs == nil || *info.DurationMs != 180500 || info.Bytes != nil || !info.Finished(ended, 30*time.Second) {
		t.Fatalf("after finish without a size: %+v", info)
	}
	if err := s.FinishRecording(ctx, a, 3*time.Minute, 2_880_044); err != nil {
		t.Fatal(err)
	}
	info, _ = s.AttemptRecording(ctx, a)
	if *info.DurationMs != 180000 || info.Bytes == nil || *info.Bytes != 2_880_044 {
		t.Fatalf("after finish with a size: %+v", info)
	}

	if err := s.FinishRecording(ctx, plain, time.Second, 10); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("finish of an attempt never recorded: %v", err)
	}
	if info, err := s.AttemptRecording(ctx, plain); err != nil || info.Path != "" || info.StartedAt != nil {
		t.Fatalf("attempt without a recording: %+v %v", info, err)
	}
	if _, err := s.AttemptRecording(ctx, 999999); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("recording of no attempt: %v", err)
	}
}

// The attempt read model carries the detector's verdict and the recording (issue 15).
func TestContactAttemptsAnalysisAndRecording(t *testing.T) {
	s := storetest.New(t)
	ctx := context.Background()
	b := newBatch(t, s, at("2026-03-01 10:00"), "2026-03-10")
	list := storetest.AddList(t, s, b.ID, "09011112222")
	job := storetest.AddCallJob(t, s, b.ID, list, "stopped")
	machine := storetest.AddJobAttempt(t, s, job, list, at("2026-03-10 10:00"))
	human := storetest.AddJobAttempt(t, s, job, list, at("2026-03-10 11:00"))
	plain := storetest.AddJobAttempt(t, s, job, list, at("2026-03-10 12:00"))
	vm := at("2026-03-10 10:00").Add(21 * time.Second)
	if _, err := s.DB().ExecContext(ctx, `UPDATE attempts SET outcome = 'machine', amd_result = 'machine', amd_detail = 'beep',
		amd_ms = 2150, machine_action = 'voicemail', voicemail_at = $2 WHERE id = $1`, machine, vm); err != nil {
		t.Fatal(err)
	}
	if _, err := s.DB().ExecContext(ctx, `UPDATE attempts SET outcome = 'connected', amd_result = 'unsure', amd_detail = 'time_limit',
		amd_ms = 3000 WHERE id = $1`, human); err != nil {
		t.Fatal(err)
	}
	recAt := at("2026-03-10 11:00").Add(8 * time.Second)
	if err := s.StartRecording(ctx, human, "1/2026-03-10/h.mp3", recAt); err != nil {
		t.Fatal(err)
	}
	if err := s.FinishRecording(ctx, human, 61*time.Second, 976_000); err != nil {
		t.Fatal(err)
	}

	var contact int64
	if err := s.DB().QueryRowContext(ctx, `SELECT contact_id FROM attempts WHERE id = $1`, machine).Scan(&contact); err != nil {
		t.Fatal(err)
	}
	got, err := s.ContactAttempts(ctx, contact)
	if err != nil {
		t.Fatal(err)
	}
	byID := map[int64]store.Attempt{}
	for _, a := range got {
		byID[a.ID] = a
	}
	if a := byID[machine].Analysis; a == nil || a.Result != "machine" || a.Detail != "beep" || a.Ms != 2150 ||
		a.MachineAction != "voicemail" || a.VoicemailAt == nil || !a.VoicemailAt.Equal(vm) || byID[machine].Recording != nil {
		t.Errorf("machine attempt: %+v %+v", a, byID[machine].Recording)
	}
	if a := byID[human].Analysis; a == nil || a.Result != "unsure" || a.MachineAction != "" || a.VoicemailAt != nil {
		t.Errorf("unsure attempt: %+v", a)
	}
	if r := byID[human].Recording; r == nil || r.Path != "1/2026-03-10/h.mp3" || !r.StartedAt.Equal(recAt) ||
		r.DurationMs == nil || *r.DurationMs != 61000 || r.Bytes == nil || *r.Bytes != 976_000 {
		t.Errorf("recorded attempt: %+v", r)
	}
	if a := byID[plain]; a.Analysis != nil || a.Recording != nil {
		t.Errorf("plain attempt: %+v %+v", a.Analysis, a.Recording)
	}
}

// B-6: deleting a batch, by hand or by retention, hands back its attempts' recording paths for
// the caller to remove the files.
func TestDeletionReturnsRecordings(t *testing.T) {
	s := storetest.New(t)
	ctx := context.Background()
	record := func(b store.Batch, path string) {
		t.Helper()
		a := storetest.AddAttempt(t, s, b.ID, at("2022-08-15 10:00"), "no_answer")
		if path != "" {
			if err := s.StartRecording(ctx, a, path, at("2022-08-15 10:00")); err != nil {
				t.Fatal(err)
			}
		}
	}
	manual := newBatch(t, s, at("2022-07-20 10:00"), "2022-08-01")
	record(manual, "1/2022-08-15/1.wav")
	record(manual, "1/2022-08-15/2.wav")
	record(manual, "")
	recs, err := s.DeleteBatch(ctx, manual.ID, "admin", at("2022-08-20 12:00"))
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(recs, []string{"1/2022-08-15/1.wav", "1/2022-08-15/2.wav"}) {
		t.Fatalf("manual deletion returned %q", recs)
	}

	swept := newBatch(t, s, at("2022-07-20 10:00"), "2022-08-01")
	record(swept, "1/2022-08-15/3.wav")
	kept := newBatch(t, s, at("2022-07-20 10:00"), "2022-08-02")
	record(kept, "1/2022-08-15/4.wav")
	res, err := s.SweepRetention(ctx, at("2023-01-27 00:00"))
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(res.Deleted, []int64{swept.ID}) || !slices.Equal(res.Recordings, []string{"1/2022-08-15/3.wav"}) {
		t.Fatalf("sweep %+v", res)
	}
	if n := storetest.Count(t, s, "attempts", "recording_path IS NOT NULL"); n != 1 {
		t.Fatalf("%d recorded attempts left, want the kept batch's", n)
	}
}
