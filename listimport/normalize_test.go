package listimport

import "testing"

func TestNormalizeTel(t *testing.T) {
	for _, c := range []struct {
		in, want string
		changed  bool
	}{
		{"0312345678", "0312345678", false},
		{"03-1234-5678", "0312345678", true},
		{"０３－１２３４－５６７８", "0312345678", true},
		{"(03) 1234 5678", "0312345678", true},
		{"（０３）１２３４ー５６７８", "0312345678", true},
		{"090.1234.5678", "09012345678", true},
		{"+81 90-1234-5678", "09012345678", true},
		{"+81 (0)3 1234 5678", "0312345678", true},
		{"0081312345678", "0312345678", true},
		{"+1 415 555 0100", "+1 415 555 0100", false}, // another country: as written
		{"03-1234-567８a", "03-1234-567８a", false},     // letters: left to validation
		{"03+1234", "03+1234", false},
		{"", "", false},
	} {
		got, changed := NormalizeTel(c.in)
		if got != c.want || changed != c.changed {
			t.Errorf("NormalizeTel(%q) = %q, %v; want %q, %v", c.in, got, changed, c.want, c.changed)
		}
	}
}
