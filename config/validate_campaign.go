package config

import (
	"fmt"
	"strings"
	"time"

	"github.com/kakeru-dialer/kakeru/domain"
)

// ids collects the ids that decoded, for reference checks. complete is false when some id failed
// to decode: then a reference to an unknown id may be a consequence, not a problem of its own.
type ids struct {
	known    map[int]bool
	complete bool
}

func (s ids) check(v *validator, path string, id int, what string) {
	if s.complete && !s.known[id] {
		v.add(path, "unknown %s %d", what, id)
	}
}

// isResultCode matches ^[a-z0-9_]{1,40}$.
func isResultCode(s string) bool {
	if len(s) < 1 || len(s) > 40 {
		return false
	}
	for i := range len(s) {
		if !(s[i] >= 'a' && s[i] <= 'z' || s[i] >= '0' && s[i] <= '9' || s[i] == '_') {
			return false
		}
	}
	return true
}

func (v *validator) campaigns(list []Campaign) ids {
	out := ids{known: map[int]bool{}, complete: !v.broken("campaigns")}
	if len(list) == 0 {
		v.add("campaigns", "at least one campaign is required")
	}
	seenID := map[int]int{}
	seenName := map[string]int{}
	for i := range list {
		cp := &list[i]
		p := fmt.Sprintf("campaigns[%d]", i)
		if v.broken(p + ".id") {
			out.complete = false
		} else if cp.ID < 1 {
			v.add(p+".id", "must be at least 1, got %d", cp.ID)
		} else if j, dup := seenID[cp.ID]; dup {
			v.add(p+".id", "duplicate campaign id %d (also campaigns[%d])", cp.ID, j)
		} else {
			seenID[cp.ID] = i
			out.known[cp.ID] = true
		}
		if v.name(p+".name", cp.Name, 100) {
			if j, dup := seenName[cp.Name]; dup {
				v.add(p+".name", "duplicate campaign name %q (also campaigns[%d])", cp.Name, j)
			} else {
				seenName[cp.Name] = i
			}
		}
		v.timeZone(p+".time_zone", cp)
		hoursOK := v.businessHours(p+".business_hours", cp.BusinessHours)
		v.calendar(p+".calendar", cp, hoursOK)
		v.callerIDs(p, cp)
		v.resultCodes(p+".result_codes", cp.ResultCodes)
		v.pacing(p+".pacing", cp.Pacing)
		v.retry(p+".retry", cp.Retry)
		if cp.CallbackGrace < 0 || cp.CallbackGrace > MaxCallbackGrace {
			v.add(p+".callback_grace", "must be between 0s (anyone at once) and %s, got %s", MaxCallbackGrace, cp.CallbackGrace)
		}
		if cp.CustomerDialString != "" {
			v.dialString(p+".customer_dial_string", cp.CustomerDialString)
		}
		if cp.AbandonMessage != "" {
			v.playback(p+".abandon_message", cp.AbandonMessage)
		}
		v.answerAnalysis(p+".answer_analysis", cp.AnswerAnalysis, cp.Pacing)
		v.recording(p+".recording", cp.Recording, v.cfg.FreeSWITCH.Recordings)
		v.desk(p, cp)
	}
	return out
}

func (v *validator) timeZone(path string, cp *Campaign) {
	switch cp.TimeZone {
	case "":
		v.add(path, "is required: an IANA time zone such as %q", DefaultTimeZone)
		return
	case "Local":
		// time.LoadLocation("Local") is whatever the host is set to: not a campaign rule.
		v.add(path, "must name a zone such as %q, not the host's local zone", DefaultTimeZone)
		return
	}
	loc, err := time.LoadLocation(cp.TimeZone)
	if err != nil {
		v.add(path, "unknown time zone %q: want an IANA name such as %q", cp.TimeZone, DefaultTimeZone)
		return
	}
	cp.Location = loc
}

func (v *validator) businessHours(path string, bh BusinessHours) bool {
	ok := true
	for _, t := range []struct {
		key string
		val ClockTime
	}{{"start", bh.Start}, {"end", bh.End}} {
		switch {
		case v.broken(path + "." + t.key):
			ok = false
		case t.val.Minutes == -1: // absent from the file (see applyListDefaults)
			v.add(path+"."+t.key, "is required (\"HH:MM\")")
			ok = false
		case !t.val.Valid():
			v.add(path+"."+t.key, "must be between 00:00 and 24:00")
			ok = false
		}
	}
	if ok && bh.End.Minutes <= bh.Start.Minutes {
		v.add(path+".end", "must be after start (%s), got %s", bh.Start, bh.End)
		ok = false
	}
	return ok
}

func (v *validator) callerIDs(p string, cp *Campaign) {
	if len(cp.CallerIDs) == 0 && !cp.WithholdCallerID {
		v.add(p+".caller_ids", "at least one caller ID is required unless withhold_caller_id is true")
	}
	seen := map[string]int{}
	for i, id := range cp.CallerIDs {
		path := fmt.Sprintf("%s.caller_ids[%d]", p, i)
		if !isDigits(id, 1, 20) {
			v.add(path, "must be 1 to 20 half-width digits, got %q", id)
			continue
		}
		if j, dup := seen[id]; dup {
			v.add(path, "duplicate caller ID %q (also caller_ids[%d])", id, j)
			continue
		}
		seen[id] = i
	}
}

// resultCodes may be empty: J-5 refuses to start a job of such a campaign instead.
func (v *validator) resultCodes(p string, codes []ResultCode) {
	seen := map[string]int{}
	for i, rc := range codes {
		path := fmt.Sprintf("%s[%d]", p, i)
		switch {
		case !isResultCode(rc.Code):
			v.add(path+".code", "must be 1 to 40 of a-z, 0-9 and _, got %q", rc.Code)
		default:
			if j, dup := seen[rc.Code]; dup {
				v.add(path+".code", "duplicate result code %q (also result_codes[%d])", rc.Code, j)
			} else {
				seen[rc.Code] = i
			}
		}
		v.name(path+".label", rc.Label, 100)
	}
}

func (v *validator) pacing(p string, pc Pacing) {
	switch pc.Mode {
	case PacingProgressive, PacingRatio, PacingPredictive, PacingPreview:
	default:
		v.add(p+".mode", "must be one of progressive, ratio, predictive, preview, got %q", pc.Mode)
	}
	if !(pc.TargetAbandonRate > 0 && pc.TargetAbandonRate <= 0.1) {
		v.add(p+".target_abandon_rate", "must be above 0 and at most 0.1 (10%%), got %v", pc.TargetAbandonRate)
	}
	if !(pc.MaxRatio >= 1 && pc.MaxRatio <= 10) {
		v.add(p+".max_ratio", "must be between 1 and 10, got %v", pc.MaxRatio)
	}
	if !(pc.MaxCallsPerSecond >= 0 && pc.MaxCallsPerSecond <= 10000) {
		v.add(p+".max_calls_per_second", "must be between 0 (no cap) and 10000, got %v", pc.MaxCallsPerSecond)
	}
	if pc.ConnectDeadline < MinConnectDeadline || pc.ConnectDeadline > MaxConnectDeadline {
		v.add(p+".connect_deadline", "must be between %s and %s, got %s",
			MinConnectDeadline, MaxConnectDeadline, pc.ConnectDeadline)
	}
}

func (v *validator) retry(p string, rules []RetryRule) {
	var retryable []string // for the message
	for _, o := range domain.Outcomes() {
		if o.Retryable() {
			retryable = append(retryable, string(o))
		}
	}
	owner := map[domain.Outcome]int{} // outcome → the rule retrying it: two rules for one outcome would be ambiguous
	for i, r := range rules {
		path := fmt.Sprintf("%s[%d]", p, i)
		if len(r.Outcomes) == 0 {
			v.add(path+".outcomes", "at least one outcome is required")
		}
		for k, o := range r.Outcomes {
			op := fmt.Sprintf("%s.outcomes[%d]", path, k)
			switch j, dup := owner[o]; {
			case !o.Retryable():
				v.add(op, "unknown outcome %q: want one of %s", o, strings.Join(retryable, ", "))
			case dup && j == i:
				v.add(op, "duplicate outcome %q", o)
			case dup:
				v.add(op, "outcome %q is already retried by %s[%d]", o, p, j)
			default:
				owner[o] = i
			}
		}
		if r.After < 0 || r.After > MaxRetryAfter {
			v.add(path+".after", "must be between 0s and %s, got %s", MaxRetryAfter, r.After)
		}
		v.intRange(path+".max_attempts", r.MaxAttempts, 1, 100)
	}
}
