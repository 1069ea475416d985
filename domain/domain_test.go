package domain

import (
	"regexp"
	"slices"
	"testing"
)

// spelling is how the API spells every value: lower-case snake_case.
var spelling = regexp.MustCompile(`^[a-z]+(_[a-z]+)*$`)

// checkList: every value of a list is valid, spelled as the API spells values, and listed once;
// and a value that is not in it is not valid.
func checkList[T ~string](t *testing.T, name string, list []T, valid func(T) bool) {
	t.Helper()
	if len(list) == 0 {
		t.Fatalf("%s: empty", name)
	}
	for i, v := range list {
		if !valid(v) {
			t.Errorf("%s: %q is not valid", name, v)
		}
		if !spelling.MatchString(string(v)) {
			t.Errorf("%s: %q is not spelled in snake_case", name, v)
		}
		if slices.Contains(list[:i], v) {
			t.Errorf("%s: %q listed twice", name, v)
		}
	}
	for _, v := range []T{"", "Connected", "unknown", T(string(list[0]) + " ")} {
		if valid(v) {
			t.Errorf("%s: %q is valid", name, v)
		}
	}
	list[0] = "changed"
}

func TestLists(t *testing.T) {
	checkList(t, "Outcomes", Outcomes(), Outcome.Valid)
	checkList(t, "AgentStates", AgentStates(), AgentState.Valid)
	checkList(t, "RequestKinds", RequestKinds(), RequestKind.Valid)
	checkList(t, "NextSteps", NextSteps(), NextStep.Valid)
	checkList(t, "JobStatuses", JobStatuses(), JobStatus.Valid)
	checkList(t, "AfterWrapUps", AfterWrapUps(), func(a AfterWrapUp) bool { _, _, ok := a.Request(); return ok && a != "" })
	// checkList changed each list's first element: the lists are the callers' own copies.
	if Outcomes()[0] != OutcomeConnected || AgentStates()[0] != AgentAvailable || RequestKinds()[0] != RequestJoin ||
		NextSteps()[0] != NextContinue || AfterWrapUps()[0] != AfterContinue || JobStatuses()[0] != JobStopped {
		t.Error("a list handed out was changed by its caller")
	}
}

// The API's spelling (docs/ui-guide.md), in the API's order.
func TestSpelling(t *testing.T) {
	for _, c := range []struct {
		got, want []string
	}{
		{spelled(Outcomes()), []string{"connected", "abandoned", "machine", "no_answer", "busy", "rejected",
			"invalid_number", "network_failure", "cancelled", "skipped"}},
		{spelled(AgentStates()), []string{"available", "preview", "on_call", "wrap_up", "break", "away", "logged_off"}},
		{spelled(NextSteps()), []string{"continue", "callback", "complete"}},
		{spelled(AfterWrapUps()), []string{"continue", "break", "away", "end"}},
		{spelled(RequestKinds()), []string{"join", "leave", "state", "hangup_customer", "record_call", "stop_recording",
			"preview_dial", "preview_skip", "manual_dial", "hold", "unhold", "transfer", "consult_swap", "consult_finish",
			"consult_cancel", "conference", "conference_end"}},
		{spelled(JobStatuses()), []string{"stopped", "running"}},
	} {
		if !slices.Equal(c.got, c.want) {
			t.Errorf("got %q, want %q", c.got, c.want)
		}
	}
	if OutcomeInProgress != "in_progress" || OutcomeInProgress.Valid() || OutcomeInProgress.Live() || OutcomeInProgress.Retryable() {
		t.Error("in_progress is no outcome")
	}
}

func spelled[T ~string](list []T) []string {
	out := make([]string, len(list))
	for i, v := range list {
		out[i] = string(v)
	}
	return out
}

func TestOutcomeClasses(t *testing.T) {
	for _, o := range Outcomes() {
		live := o == OutcomeConnected || o == OutcomeAbandoned
		if o.Live() != live {
			t.Errorf("%s.Live() = %v", o, o.Live())
		}
		if o.Retryable() != (o != OutcomeConnected && o != OutcomeSkipped) {
			t.Errorf("%s.Retryable() = %v", o, o.Retryable())
		}
	}
}

func TestAgentStateChoosable(t *testing.T) {
	var chosen []AgentState
	for _, s := range AgentStates() {
		if s.Choosable() {
			chosen = append(chosen, s)
		}
	}
	if !slices.Equal(chosen, []AgentState{AgentAvailable, AgentBreak, AgentAway}) {
		t.Errorf("chosen states %v", chosen)
	}
}

// G-4: each choice after a disposition is the request that moves the agent on.
func TestAfterWrapUpRequest(t *testing.T) {
	for _, c := range []struct {
		after AfterWrapUp
		kind  RequestKind
		state AgentState
		ok    bool
	}{
		{"", RequestState, AgentAvailable, true},
		{AfterContinue, RequestState, AgentAvailable, true},
		{AfterBreak, RequestState, AgentBreak, true},
		{AfterAway, RequestState, AgentAway, true},
		{AfterEnd, RequestLeave, "", true},
		{"wrap_up", "", "", false},
		{"END", "", "", false},
	} {
		kind, state, ok := c.after.Request()
		if kind != c.kind || state != c.state || ok != c.ok {
			t.Errorf("%q.Request() = %q, %q, %v; want %q, %q, %v", c.after, kind, state, ok, c.kind, c.state, c.ok)
		}
		if ok && (!kind.Valid() || kind == RequestState && !state.Choosable()) {
			t.Errorf("%q.Request() makes a request the API would refuse: %q %q", c.after, kind, state)
		}
	}
}
