package config

import (
	"slices"
	"sort"
	"strings"
)

// sectionPrefixes are the configuration's top-level keys as they start an environment variable's name.
var sectionPrefixes = []string{"SYSTEM", "POSTGRES", "REDIS", "FREESWITCH", "HTTP", "CAMPAIGNS", "DIAL_GROUPS", "AGENTS", "USERS"}

// environmentProblems refuses KAKERU_ variables that name a configuration section but no key
// that can be overridden, as an unknown key in the file is refused: a misspelt override
// (KAKERU_REDIS_ADR) would otherwise be ignored in silence and the default used. Variables of
// other tools (KAKERU_LAB_…, KAKERU_TEST_…) do not start with a section and are left alone.
func environmentProblems(environ []string) []Problem {
	known := map[string]bool{}
	for _, s := range settings() {
		known[EnvName(s.key)] = true
	}
	var problems []Problem
	for _, kv := range environ {
		name, _, _ := strings.Cut(kv, "=")
		rest, ok := strings.CutPrefix(name, EnvPrefix)
		if !ok || known[name] {
			continue
		}
		section := ""
		for _, s := range sectionPrefixes {
			if rest == s || strings.HasPrefix(rest, s+"_") {
				section = s
			}
		}
		if section == "" {
			continue
		}
		var same []string
		for k := range known {
			if strings.HasPrefix(k, EnvPrefix+section+"_") {
				same = append(same, k)
			}
		}
		sort.Strings(same)
		msg := "unknown environment override"
		switch {
		case slices.Contains([]string{"CAMPAIGNS", "DIAL_GROUPS", "AGENTS", "USERS"}, section):
			msg += ": lists are set in the file only"
		case len(same) > 0:
			msg += "; this section's are " + strings.Join(same, ", ")
		}
		problems = append(problems, Problem{Path: "environment " + name, Message: msg})
	}
	sort.Slice(problems, func(i, j int) bool { return problems[i].Path < problems[j].Path })
	return problems
}

// Warnings are what is allowed but probably a mistake: the instance starts and logs them.
func (c *Config) Warnings() []string {
	var w []string
	if len(c.Users) == 0 {
		w = append(w, "no users are configured: the API refuses every request that needs a token (401)")
	}
	return w
}
