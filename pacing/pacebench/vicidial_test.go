package pacebench

import (
	"math"
	"testing"
)

func near(a, b float64) bool { return math.Abs(a-b) < 1e-9 }

// The 15 s update against hand-computed steps.
func TestVicidialAdapt(t *testing.T) {
	v := NewVicidial()
	// Samples: ready 4, 2, 3 (mean 3); waiting 0, 1, 2 (mean 1); total 10 → m = (3 − 1) / 10 = 0.2.
	v.Sample(4, 0, 10)
	v.Sample(2, 1, 10)
	v.Sample(3, 2, 10)
	v.Adapt()
	if !near(v.Level, 1.2) {
		t.Fatalf("level %v, want 1 × 1.2 = 1.2", v.Level)
	}
	// Next 15 s: ready 1, waiting 0, total 20 → m = 0.05 → 1.2 × 1.05 = 1.26.
	v.Sample(1, 0, 20)
	v.Adapt()
	if !near(v.Level, 1.26) {
		t.Fatalf("level %v, want 1.26", v.Level)
	}
	// Waiting over ready: ready 0, waiting 5, total 10 → m = −0.5 → 0.63, clamped to 1.
	v.Sample(0, 5, 10)
	v.Adapt()
	if !near(v.Level, 1) {
		t.Fatalf("level %v, want the floor 1", v.Level)
	}
	// All ready: m = 1 each time → 2, then 4 clamped to 3.
	v.Sample(10, 0, 10)
	v.Adapt()
	if !near(v.Level, 2) {
		t.Fatalf("level %v, want 2", v.Level)
	}
	v.Sample(10, 0, 10)
	v.Adapt()
	if !near(v.Level, 3) {
		t.Fatalf("level %v, want the cap 3", v.Level)
	}
	// No samples: unchanged.
	v.Adapt()
	if !near(v.Level, 3) {
		t.Fatalf("level %v after an empty period", v.Level)
	}
}

// The 60 s check against hand-computed steps.
func TestVicidialCheck(t *testing.T) {
	v := &Vicidial{Level: 2.8}
	// 30 calls in the minute, 16 dropped (over half): halve → 1.4. Today 400 calls, 10 drops
	// of 500 answers (2%): no hold.
	v.Check(30, 16, 400, 10, 500)
	if !near(v.Level, 1.4) || v.Hold {
		t.Fatalf("level %v hold %v, want 1.4 without hold", v.Level, v.Hold)
	}
	// Exactly half dropped, or 20 calls only: unchanged.
	v.Check(30, 15, 400, 10, 500)
	v.Check(20, 20, 400, 10, 500)
	if !near(v.Level, 1.4) {
		t.Fatalf("level %v, want 1.4", v.Level)
	}
	// Today's drop rate 16 / 500 = 3.2% > 3%: level 1.0 and held.
	v.Check(10, 0, 400, 16, 500)
	if !near(v.Level, 1) || !v.Hold {
		t.Fatalf("level %v hold %v, want 1 held", v.Level, v.Hold)
	}
	// While held, the 15 s update does not raise it.
	v.Sample(10, 0, 10)
	v.Adapt()
	if !near(v.Level, 1) {
		t.Fatalf("level %v raised while held", v.Level)
	}
	// 50 calls today is not over 50: the rule does not apply; the rate back to 3% releases.
	v.Check(10, 0, 50, 10, 20)
	if v.Hold {
		t.Fatal("held with only 50 calls today")
	}
	v.Check(10, 0, 600, 15, 500)
	if v.Hold {
		t.Fatal("held at exactly 3%")
	}
	v.Sample(5, 0, 10)
	v.Adapt()
	if !near(v.Level, 1.5) {
		t.Fatalf("level %v, want 1.5 once released", v.Level)
	}
	// Halving never goes under 1.
	v.Check(100, 90, 600, 15, 500)
	if !near(v.Level, 1) {
		t.Fatalf("level %v, want 1", v.Level)
	}
}

// The 2.5 s dial step: round(level × (ready + in call)) − calls in progress.
func TestVicidialDials(t *testing.T) {
	v := &Vicidial{Level: 1.5}
	if n := v.Dials(3, 4, 6); n != 5 { // round(10.5) = 11 − 6
		t.Errorf("dials %d, want 5", n)
	}
	if n := v.Dials(0, 4, 9); n != 0 {
		t.Errorf("dials %d, want 0 when calls in progress exceed the goal", n)
	}
	v.Level = 1
	if n := v.Dials(2, 3, 3); n != 2 { // 5 − 3: level 1 is progressive
		t.Errorf("dials %d, want 2", n)
	}
}
