package httpapi

import (
	"encoding/json"
	"slices"
	"testing"

	"github.com/kakeru-dialer/kakeru/domain"
)

// The enums of the OpenAPI document are the domain's lists, in the same order: a word added to,
// renamed in or dropped from the domain shows here until the document says the same.
func TestOpenAPIEnumsMatchDomain(t *testing.T) {
	type schema struct {
		Enum       []string          `json:"enum"`
		Properties map[string]schema `json:"properties"`
	}
	var doc struct {
		Components struct {
			Schemas map[string]schema `json:"schemas"`
		} `json:"components"`
	}
	if err := json.Unmarshal(openAPIDocument, &doc); err != nil {
		t.Fatal(err)
	}
	s := doc.Components.Schemas
	var chosen []domain.AgentState // what an agent may ask for between calls
	for _, st := range domain.AgentStates() {
		if st.Choosable() {
			chosen = append(chosen, st)
		}
	}
	for _, c := range []struct {
		where string
		got   []string
		want  []string
	}{
		{"Outcome", s["Outcome"].Enum, words(append(domain.Outcomes(), domain.OutcomeInProgress))},
		{"AgentState", s["AgentState"].Enum, words(domain.AgentStates())},
		{"MonitorAgent.state", s["MonitorAgent"].Properties["state"].Enum, words(domain.AgentStates())},
		{"StateRequest.state", s["StateRequest"].Properties["state"].Enum, words(chosen)},
		{"NextAction", s["NextAction"].Enum, words(domain.NextSteps())},
		{"After", s["After"].Enum, words(domain.AfterWrapUps())},
		{"CallJob.status", s["CallJob"].Properties["status"].Enum, words(domain.JobStatuses())},
		{"Monitor.status", s["Monitor"].Properties["status"].Enum, words(domain.JobStatuses())},
	} {
		if !slices.Equal(c.got, c.want) {
			t.Errorf("openapi.json %s: enum %q, the domain says %q", c.where, c.got, c.want)
		}
	}
}

func words[T ~string](list []T) []string {
	out := make([]string, len(list))
	for i, v := range list {
		out[i] = string(v)
	}
	return out
}
