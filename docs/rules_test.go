// Package docs holds kakeru's documentation. Its only Go file is this test, which keeps
// docs/rules.md complete: every product rule id cited anywhere in the repository must have a
// heading there, so a reader can always go from a citation to the rule's text.
package docs

import (
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// ruleID matches a product rule id as the code cites it: an area letter, a dash, a number and an
// optional letter (B-2, J-5, P-2, S-1 …). The area letters are those of the rule sections:
// Assignments, Batches, Dispositions, aGents, Jobs, Lists, do-Not-call, Pacing, Supervision,
// access (X).
var ruleID = regexp.MustCompile(`\b[ABDGJLNPSX]-[0-9]+[a-z]?\b`)

// ruleHeading is a heading of docs/rules.md that names one rule: "### B-2".
var ruleHeading = regexp.MustCompile(`^#{2,6}\s+([ABDGJLNPSX]-[0-9]+[a-z]?)\b`)

// cited are the file kinds whose citations count.
var cited = []string{".go", ".md", ".yaml", ".yml", ".sh", ".sql"}

// headings returns the rule ids that docs/rules.md has a heading for, failing on duplicates.
func headings(t *testing.T) map[string]bool {
	t.Helper()
	b, err := os.ReadFile("rules.md")
	if err != nil {
		t.Fatal(err)
	}
	ids := map[string]bool{}
	for i, line := range strings.Split(string(b), "\n") {
		m := ruleHeading.FindStringSubmatch(line)
		if m == nil {
			continue
		}
		if ids[m[1]] {
			t.Errorf("rules.md:%d: a second heading for %s", i+1, m[1])
		}
		ids[m[1]] = true
	}
	if len(ids) == 0 {
		t.Fatal("rules.md has no rule headings")
	}
	return ids
}

// citations walks the repository from root and returns each cited rule id with the files citing
// it, skipping docs/rules.md itself and version-control metadata.
func citations(t *testing.T, root string) map[string][]string {
	t.Helper()
	self, err := filepath.Abs("rules.md")
	if err != nil {
		t.Fatal(err)
	}
	out := map[string][]string{}
	err = filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.Name() == ".git" {
			if d.IsDir() {
				return filepath.SkipDir
			}
			return nil // a worktree's .git is a file
		}
		if d.IsDir() || !slices.Contains(cited, filepath.Ext(path)) {
			return nil
		}
		if abs, err := filepath.Abs(path); err == nil && abs == self {
			return nil
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, path)
		for _, id := range ruleID.FindAllString(string(b), -1) {
			if files := out[id]; len(files) == 0 || files[len(files)-1] != rel {
				out[id] = append(files, rel)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestEveryCitedRuleIsDocumented: a reader can go from any rule id cited in the repository to
// its text in docs/rules.md.
func TestEveryCitedRuleIsDocumented(t *testing.T) {
	documented := headings(t)
	cites := citations(t, "..")
	if len(cites) == 0 {
		t.Fatal("no rule id cited anywhere: is the walk starting at the repository root?")
	}
	ids := make([]string, 0, len(cites))
	for id := range cites {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	for _, id := range ids {
		if !documented[id] {
			files := cites[id]
			if len(files) > 5 {
				files = append(files[:5:5], "…")
			}
			t.Errorf("%s is cited (%s) but docs/rules.md has no heading for it: add a \"### %s\" section",
				id, strings.Join(files, ", "), id)
		}
	}
}

// TestRuleIDPattern pins what counts as a citation.
func TestRuleIDPattern(t *testing.T) {
	for s, want := range map[string][]string{
		"rules.md B-2 dates":            {"B-2"},
		"(J-5, P-2) and L-1..L-8":       {"J-5", "P-2", "L-1", "L-8"},
		"S-1: live events; X-1 roles":   {"S-1", "X-1"},
		"UTF-8, RFC-4180, sha-256, Q-1": nil,
		"pacing/scenarios/S1.yaml":      nil,
	} {
		if got := ruleID.FindAllString(s, -1); !slices.Equal(got, want) {
			t.Errorf("ruleID in %q = %q, want %q", s, got, want)
		}
	}
}
