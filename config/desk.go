package config

import (
	"regexp"
	"strconv"
	"time"
)

// PacingPreview is the pacing mode in which each agent sees its next contact before it is
// dialed (issue 16): the agent dials or skips it, and the preview's time limit dials it.
const PacingPreview = "preview"

// Preview and manual-dial defaults and limits.
const (
	DefaultPreviewTimeLimit = 30 * time.Second
	MinPreviewTimeLimit     = 5 * time.Second
	MaxPreviewTimeLimit     = 10 * time.Minute
	// MaxAllowedNumbers bounds a campaign's transfer allow-list.
	MaxAllowedNumbers = 1000
)

// DefaultSkipReasons are a preview campaign's skip reasons when it names none.
func DefaultSkipReasons() []SkipReason {
	return []SkipReason{{Code: "not_now", Label: "今は発信しない"}, {Code: "wrong_data", Label: "情報に誤り"}, {Code: "other", Label: "その他"}}
}

// Preview is how a campaign (or a job, by its pacing_mode) previews contacts.
type Preview struct {
	// TimeLimit: a contact shown this long without the agent's choice is dialed (default 30s,
	// 5s to 10m).
	TimeLimit time.Duration `mapstructure:"time_limit"`
	// SkipReasons are the reasons an agent may give for skipping a contact; the reports count
	// skips per reason.
	SkipReasons []SkipReason `mapstructure:"skip_reasons"`
}

// SkipReason is one reason to skip a previewed contact.
type SkipReason struct {
	Code  string `mapstructure:"code"`
	Label string `mapstructure:"label"`
}

// HasSkipReason reports whether code is one of the campaign's skip reasons.
func (p Preview) HasSkipReason(code string) bool {
	for _, r := range p.SkipReasons {
		if r.Code == code {
			return true
		}
	}
	return false
}

// ManualDial is what an agent may dial by hand in a job of the campaign.
type ManualDial struct {
	// Disabled turns manual dialing off for the campaign (on by default).
	Disabled bool `mapstructure:"disabled"`
}

// Transfer is where an agent may send or bring in a third party.
type Transfer struct {
	// AllowedNumbers are the outside numbers (digits) an agent may transfer a customer to or
	// bring into a conference; empty: none. Agents of the same job and the campaign's
	// supervisors (at their first supervisor_endpoints entry) need no listing.
	AllowedNumbers []string `mapstructure:"allowed_numbers"`
}

// Allows reports whether number is on the allow-list.
func (t Transfer) Allows(number string) bool {
	for _, n := range t.AllowedNumbers {
		if n == number {
			return true
		}
	}
	return false
}

func applyDeskDefaults(cp *Campaign, present map[string]bool, p string) {
	if !present[p+"preview.time_limit"] {
		cp.Preview.TimeLimit = DefaultPreviewTimeLimit
	}
	if !present[p+"preview.skip_reasons"] {
		cp.Preview.SkipReasons = DefaultSkipReasons()
	}
}

var (
	codePattern   = regexp.MustCompile(`^[a-z0-9_]{1,40}$`)
	digitsPattern = regexp.MustCompile(`^[0-9]{3,20}$`)
)

func (v *validator) desk(p string, cp *Campaign) {
	if cp.Preview.TimeLimit < MinPreviewTimeLimit || cp.Preview.TimeLimit > MaxPreviewTimeLimit {
		v.add(p+".preview.time_limit", "must be between %s and %s, got %s", MinPreviewTimeLimit, MaxPreviewTimeLimit, cp.Preview.TimeLimit)
	}
	if len(cp.Preview.SkipReasons) == 0 {
		v.add(p+".preview.skip_reasons", "must name at least one reason")
	}
	seen := map[string]bool{}
	for i, r := range cp.Preview.SkipReasons {
		rp := p + ".preview.skip_reasons[" + strconv.Itoa(i) + "]"
		if !codePattern.MatchString(r.Code) {
			v.add(rp+".code", "must be 1 to 40 of a-z, 0-9 and _, got %q", r.Code)
		} else if seen[r.Code] {
			v.add(rp+".code", "%q is listed twice", r.Code)
		}
		seen[r.Code] = true
		v.name(rp+".label", r.Label, 100)
	}
	if len(cp.Transfer.AllowedNumbers) > MaxAllowedNumbers {
		v.add(p+".transfer.allowed_numbers", "must list at most %d numbers, got %d", MaxAllowedNumbers, len(cp.Transfer.AllowedNumbers))
	}
	for i, n := range cp.Transfer.AllowedNumbers {
		if !digitsPattern.MatchString(n) {
			v.add(p+".transfer.allowed_numbers["+strconv.Itoa(i)+"]", "must be 3 to 20 digits, got %q", n)
		}
	}
}
