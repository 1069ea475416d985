package deploy_test

import (
	"fmt"
	"strings"
	"unicode"
)

// selector is a metric named in a PromQL expression, with the label names its matchers use.
type selector struct {
	metric string
	labels []string
}

// PromQL words that are not metric names where an identifier may stand.
var promqlKeywords = map[string]bool{
	"and": true, "or": true, "unless": true, "bool": true, "offset": true, "atan2": true,
	"by": true, "without": true, "on": true, "ignoring": true, "group_left": true, "group_right": true,
	"inf": true, "nan": true,
	// Aggregation operators: their by/without clause may come before the parenthesis.
	"sum": true, "min": true, "max": true, "avg": true, "group": true, "stddev": true, "stdvar": true,
	"count": true, "count_values": true, "bottomk": true, "topk": true, "quantile": true,
	"limitk": true, "limit_ratio": true,
}

// labelListKeywords take a parenthesised list of label names, not an expression.
var labelListKeywords = map[string]bool{
	"by": true, "without": true, "on": true, "ignoring": true, "group_left": true, "group_right": true,
}

// selectors lists the metric selectors of a PromQL expression. It is a lexer, not a parser: it
// knows enough of the language (strings, label matchers, ranges, functions, modifiers and
// Grafana's $variables) to tell a metric name from everything else, and refuses what it cannot
// read, so a test over it never passes by not seeing a name.
func selectors(expr string) ([]selector, error) {
	var out []selector
	rs := []rune(expr)
	i := 0
	skipSpace := func() {
		for i < len(rs) && unicode.IsSpace(rs[i]) {
			i++
		}
	}
	skipString := func() error {
		q := rs[i]
		for i++; i < len(rs); i++ {
			switch {
			case rs[i] == '\\' && q != '`':
				i++
			case rs[i] == q:
				i++
				return nil
			}
		}
		return fmt.Errorf("unterminated string in %q", expr)
	}
	ident := func() string {
		start := i
		for i < len(rs) && (rs[i] == '_' || rs[i] == ':' || unicode.IsLetter(rs[i]) || unicode.IsDigit(rs[i])) {
			i++
		}
		return string(rs[start:i])
	}
	skipVariable := func() error { // $name, ${name} or ${name:format}
		i++
		if i < len(rs) && rs[i] == '{' {
			end := strings.IndexRune(string(rs[i:]), '}')
			if end < 0 {
				return fmt.Errorf("unterminated ${ in %q", expr)
			}
			i += len([]rune(string(rs[i:])[:end])) + 1
			return nil
		}
		if ident() == "" {
			return fmt.Errorf("a lone $ in %q", expr)
		}
		return nil
	}
	matchers := func() ([]string, error) { // at '{'; returns the label names
		var names []string
		for i++; ; {
			skipSpace()
			if i >= len(rs) {
				return nil, fmt.Errorf("unterminated label matchers in %q", expr)
			}
			if rs[i] == '}' {
				i++
				return names, nil
			}
			if rs[i] == ',' {
				i++
				continue
			}
			name := ident()
			if name == "" {
				return nil, fmt.Errorf("a label name expected at %q in %q", string(rs[i:]), expr)
			}
			names = append(names, name)
			skipSpace()
			for i < len(rs) && strings.ContainsRune("=!~", rs[i]) {
				i++
			}
			skipSpace()
			if i >= len(rs) || !strings.ContainsRune("\"'`", rs[i]) {
				return nil, fmt.Errorf("a quoted value expected after label %s in %q", name, expr)
			}
			if err := skipString(); err != nil {
				return nil, err
			}
		}
	}
	for i < len(rs) {
		r := rs[i]
		switch {
		case unicode.IsSpace(r):
			i++
		case r == '"' || r == '\'' || r == '`':
			if err := skipString(); err != nil {
				return nil, err
			}
		case r == '$':
			if err := skipVariable(); err != nil {
				return nil, err
			}
		case r == '[': // a range or subquery: durations and Grafana variables only
			end := strings.IndexRune(string(rs[i:]), ']')
			if end < 0 {
				return nil, fmt.Errorf("unterminated [ in %q", expr)
			}
			i += len([]rune(string(rs[i:])[:end])) + 1
		case r == '{':
			return nil, fmt.Errorf("a selector without a metric name in %q", expr)
		case unicode.IsDigit(r) || r == '.': // a number or a duration (5m, 1e3, 0.8)
			for i < len(rs) && (unicode.IsDigit(rs[i]) || unicode.IsLetter(rs[i]) || rs[i] == '.') {
				i++
			}
		case r == '_' || r == ':' || unicode.IsLetter(r):
			name := ident()
			skipSpace()
			next := rune(0)
			if i < len(rs) {
				next = rs[i]
			}
			switch {
			case labelListKeywords[name] && next == '(':
				end := strings.IndexRune(string(rs[i:]), ')')
				if end < 0 {
					return nil, fmt.Errorf("unterminated %s ( in %q", name, expr)
				}
				i += len([]rune(string(rs[i:])[:end])) + 1
			case promqlKeywords[strings.ToLower(name)]:
			case next == '(': // a function or an aggregation
			default:
				s := selector{metric: name}
				if next == '{' {
					labels, err := matchers()
					if err != nil {
						return nil, err
					}
					s.labels = labels
				}
				out = append(out, s)
			}
		default: // operators, parentheses, commas
			i++
		}
	}
	return out, nil
}
