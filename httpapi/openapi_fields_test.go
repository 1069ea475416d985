package httpapi

import (
	"encoding/json"
	"maps"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/kakeru-dialer/kakeru/agentstate"
	"github.com/kakeru-dialer/kakeru/store"
)

// jsonFields lists the JSON names of a struct's fields (embedded structs flattened) and those
// always sent (no omitempty).
func jsonFields(t reflect.Type) (all, always []string) {
	for f := range t.Fields() {
		tag := f.Tag.Get("json")
		name, opts, _ := strings.Cut(tag, ",")
		if name == "-" || !f.IsExported() && !f.Anonymous {
			continue
		}
		if f.Anonymous && name == "" {
			a, b := jsonFields(f.Type)
			all, always = append(all, a...), append(always, b...)
			continue
		}
		if name == "" {
			name = f.Name
		}
		all = append(all, name)
		if !strings.Contains(opts, "omitempty") {
			always = append(always, name)
		}
	}
	slices.Sort(all)
	slices.Sort(always)
	return all, always
}

// The schemas of the document name exactly the JSON fields of the structs the handlers encode
// and decode, and an answer's schema requires exactly the fields always sent. The answers test
// sees only the fields its calls produce; this one sees every field.
func TestOpenAPISchemasMatchStructs(t *testing.T) {
	var doc struct {
		Components struct {
			Schemas map[string]struct {
				Required   []string                   `json:"required"`
				Properties map[string]json.RawMessage `json:"properties"`
			} `json:"schemas"`
		} `json:"components"`
	}
	if err := json.Unmarshal(openAPIDocument, &doc); err != nil {
		t.Fatal(err)
	}
	answers := map[string]any{
		"ErrorBody": apiError{}, "FieldProblem": fieldProblem{}, "ImportProblem": importProblemJSON{}, "Check": checkResult{},
		"Status": Status{}, "NodeStatus": NodeStatus{}, "AgentCounts": AgentCounts{},
		"Campaign": campaignJSON{}, "BusinessHours": businessHoursJSON{}, "Calendar": calendarJSON{},
		"WeekHours": weekHoursJSON{}, "OpenWindow": windowJSON{}, "ResultCode": resultCodeJSON{}, "Pacing": pacingJSON{},
		"RetryRule": retryJSON{}, "DialGroup": dialGroupJSON{}, "Agent": agentJSON{},
		"Batch": batchJSON{}, "BatchDeletion": store.BatchDeletion{}, "CustomerList": listJSON{}, "ListImport": importedListJSON{}, "Assignment": assignmentJSON{},
		"Contact": contactJSON{}, "Attempt": attemptJSON{}, "Disposition": dispositionJSON{},
		"AnswerAnalysis": answerAnalysisJSON{}, "Recording": recordingJSON{},
		"CallJob": callJobView{}, "JoinableCallJob": joinableJobJSON{}, "Session": sessionJSON{}, "SessionAction": sessionAction{}, "SessionCall": sessionCall{}, "ContactBrief": contactBrief{},
		"UnsavedDisposition": unsavedJSON{}, "Callback": store.Callback{}, "SessionCallback": sessionCallback{},
		"OutcomeCounts": countsJSON{}, "ReportCampaign": reportCampaignJSON{}, "ResultCodeCount": resultCodeCountJSON{},
		"AgentReport": agentReportJSON{}, "DayCounts": dayJSON{}, "ReportSummary": summaryJSON{},
		"Monitor": monitorJSON{}, "MonitorAgent": monitorAgent{}, "LiveCall": store.LiveCall{}, "RunCounts": store.RunCounts{},
		"AbandonRate": abandonRate{}, "Supervision": supervisionJSON{},
		"AbandonBudget": abandonBudgetJSON{}, "AbandonAllowance": abandonAllowance{}, // P-2, issue 18
		"DoNotCallEntry": dncEntryJSON{}, "DoNotCallRemoval": dncRemovalJSON{}, "DoNotCallImport": dncImportJSON{},
		// The agent's desk (issue 16).
		"SessionPreview": sessionPreview{}, "SkipReason": skipReasonJSON{}, "CallParty": sessionParty{},
		"CallTarget": agentstate.Target{}, "DoNotCallListDetail": dncListDetail{},
	}
	requests := map[string]any{
		"BatchCreate": createBatchRequest{}, "BatchPatch": patchBatchRequest{}, "DialGroupIDs": dialGroupsRequest{},
		"AssignmentCreate": createAssignmentRequest{}, "CallJobCreate": callJobRequest{}, "CallJobPatch": callJobRequest{},
		"JobFilter": store.JobFilter{}, "JoinRequest": joinRequest{}, "StateRequest": stateRequest{},
		"DispositionRequest": dispositionRequest{}, "CallbackPatch": rescheduleRequest{}, "SupervisionRequest": supervisionRequest{},
		"DoNotCallAdd": dncAddRequest{},
		// The agent's desk (issue 16).
		"PreviewDialRequest": previewDialRequest{}, "PreviewSkipRequest": previewSkipRequest{}, "ManualDialRequest": manualDialRequest{},
		"TransferRequest": transferRequest{}, "ConferenceRequest": conferenceRequest{}, "TargetRequest": targetRequest{},
	}
	check := func(name string, v any, answer bool) {
		s, ok := doc.Components.Schemas[name]
		if !ok {
			t.Errorf("schema %s is missing", name)
			return
		}
		all, always := jsonFields(reflect.TypeOf(v))
		props := slices.Sorted(maps.Keys(s.Properties))
		if !slices.Equal(props, all) {
			t.Errorf("schema %s has properties %v; %T has JSON fields %v", name, props, v, all)
		}
		if req := slices.Sorted(slices.Values(s.Required)); answer && !slices.Equal(req, always) {
			t.Errorf("schema %s requires %v; %T always sends %v", name, req, v, always)
		}
	}
	for name, v := range answers {
		check(name, v, true)
	}
	for name, v := range requests {
		check(name, v, false)
	}
	// Shapes the handlers build as maps or forms, and the pages of the collections.
	others := []string{"Error", "ImportRefused", "DependencyDetail", "Health", "Ready", "NotReady", "ListUpload"}
	for name, s := range doc.Components.Schemas {
		_, a := answers[name]
		_, r := requests[name]
		if len(s.Properties) > 0 && !a && !r && !slices.Contains(others, name) && !strings.HasSuffix(name, "Page") {
			t.Errorf("schema %s is tied to no struct here: add it to this test", name)
		}
	}
}
