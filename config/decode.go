package config

import (
	"errors"
	"fmt"
	"math"
	"reflect"
	"strconv"
	"strings"
	"time"

	"github.com/go-viper/mapstructure/v2"
)

// decodeHook converts and checks every value before mapstructure stores it. Weak typing is off, so
// this is the only conversion: strings (from the environment or quoted in YAML) to numbers, bools
// and durations, and "HH:MM" to ClockTime. Everything else must already have the right type; the
// errors here become Problem messages, so they are written for the person editing the file.
func decodeHook(_ reflect.Type, to reflect.Type, data any) (any, error) {
	switch to {
	case reflect.TypeFor[time.Duration]():
		return toDuration(data)
	case reflect.TypeFor[ClockTime]():
		return toClockTime(data)
	}
	switch to.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return toInt(data)
	case reflect.Float32, reflect.Float64:
		return toFloat(data)
	case reflect.Bool:
		return toBool(data)
	case reflect.String:
		switch reflect.ValueOf(data).Kind() {
		case reflect.String:
			return data, nil
		case reflect.Slice, reflect.Array, reflect.Map:
			return nil, fmt.Errorf("must be a string, got %s", describe(data))
		}
		// A number, boolean or date that YAML read from an unquoted scalar.
		return nil, fmt.Errorf("must be a string, got %s; quote the value (an unquoted number loses leading zeros)", describe(data))
	case reflect.Slice:
		switch reflect.ValueOf(data).Kind() {
		case reflect.Slice, reflect.Array:
			return data, nil
		}
		return nil, fmt.Errorf("must be a list, got %s", describe(data))
	case reflect.Struct:
		if reflect.ValueOf(data).Kind() == reflect.Map || reflect.TypeOf(data) == to {
			return data, nil
		}
		return nil, fmt.Errorf("must be a mapping of keys to values, got %s", describe(data))
	}
	return data, nil
}

func toDuration(data any) (any, error) {
	switch d := data.(type) {
	case time.Duration:
		return d, nil
	case string:
		parsed, err := time.ParseDuration(strings.TrimSpace(d))
		if err != nil {
			return nil, fmt.Errorf("invalid duration %q: want a number with a unit, e.g. \"30s\" or \"10m\"", d)
		}
		return parsed, nil
	case int:
		if d == 0 {
			return time.Duration(0), nil
		}
	}
	return nil, fmt.Errorf("must be a duration with a unit, e.g. \"30s\" or \"10m\", got %s", describe(data))
}

func toClockTime(data any) (any, error) {
	switch d := data.(type) {
	case ClockTime:
		return d, nil
	case string:
		return ParseClockTime(strings.TrimSpace(d))
	}
	return nil, fmt.Errorf("must be a time \"HH:MM\" between 00:00 and 24:00, got %s", describe(data))
}

func toInt(data any) (any, error) {
	switch d := data.(type) {
	case int, int8, int16, int32, int64, uint8, uint16, uint32:
		return d, nil
	case uint:
		if d <= math.MaxInt64 {
			return int64(d), nil
		}
	case uint64:
		if d <= math.MaxInt64 {
			return int64(d), nil
		}
	case float64:
		if d == math.Trunc(d) && math.Abs(d) < 1<<53 {
			return int64(d), nil
		}
		return nil, fmt.Errorf("must be a whole number, got %v", d)
	case string:
		i, err := strconv.ParseInt(strings.TrimSpace(d), 10, 64)
		if err != nil {
			return nil, fmt.Errorf("must be an integer, got %q", d)
		}
		return i, nil
	}
	return nil, fmt.Errorf("must be an integer, got %s", describe(data))
}

func toFloat(data any) (any, error) {
	switch reflect.ValueOf(data).Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64,
		reflect.Float32, reflect.Float64:
		return data, nil
	}
	switch d := data.(type) {
	case string:
		f, err := strconv.ParseFloat(strings.TrimSpace(d), 64)
		if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
			return nil, fmt.Errorf("must be a number, got %q", d)
		}
		return f, nil
	}
	return nil, fmt.Errorf("must be a number, got %s", describe(data))
}

func toBool(data any) (any, error) {
	switch d := data.(type) {
	case bool:
		return d, nil
	case string:
		b, err := strconv.ParseBool(strings.TrimSpace(d))
		if err != nil {
			return nil, fmt.Errorf("must be true or false, got %q", d)
		}
		return b, nil
	}
	return nil, fmt.Errorf("must be true or false, got %s", describe(data))
}

// describe names the YAML shape of a decoded value for error messages.
func describe(data any) string {
	switch d := data.(type) {
	case nil:
		return "nothing"
	case string:
		return fmt.Sprintf("the string %q", d)
	case bool:
		return fmt.Sprintf("the boolean %v", d)
	case time.Time:
		return "a date/time " + d.Format(time.RFC3339) + " (quote it)"
	}
	switch reflect.ValueOf(data).Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return fmt.Sprintf("the integer %v", data)
	case reflect.Float32, reflect.Float64:
		return fmt.Sprintf("the number %v", data)
	case reflect.Slice, reflect.Array:
		return "a list"
	case reflect.Map:
		return "a mapping"
	}
	return fmt.Sprintf("a %T", data)
}

// decodeProblems turns what mapstructure returned (DecodeErrors joined with errors.Join, possibly
// wrapped by fmt.Errorf) into Problems with key paths; unknown keys become one Problem each.
func decodeProblems(err error) []Problem {
	var out []Problem
	var walk func(error)
	walk = func(err error) {
		if err == nil {
			return
		}
		var de *mapstructure.DecodeError
		if direct, ok := err.(*mapstructure.DecodeError); ok {
			inner := direct.Unwrap()
			if errors.As(inner, &de) {
				walk(inner) // a DecodeError wrapping more of them: report the inner ones
				return
			}
			out = append(out, decodeProblem(direct)...)
			return
		}
		switch u := err.(type) {
		case interface{ Unwrap() []error }:
			for _, e := range u.Unwrap() {
				walk(e)
			}
			return
		case interface{ Unwrap() error }:
			if errors.As(err, &de) {
				walk(u.Unwrap())
				return
			}
		}
		out = append(out, Problem{Path: "", Message: err.Error()})
	}
	walk(err)
	return out
}

const invalidKeysPrefix = "has invalid keys: "

func decodeProblem(de *mapstructure.DecodeError) []Problem {
	msg := de.Unwrap().Error()
	if keys, ok := strings.CutPrefix(msg, invalidKeysPrefix); ok {
		var out []Problem
		for _, k := range strings.Split(keys, ", ") {
			m := "unknown key"
			if s := suggest(de.Name(), k); s != "" {
				m += fmt.Sprintf(" (did you mean %q?)", s)
			}
			out = append(out, Problem{Path: joinPath(de.Name(), k), Message: m})
		}
		return out
	}
	var ute *mapstructure.UnconvertibleTypeError
	if errors.As(de.Unwrap(), &ute) {
		msg = fmt.Sprintf("has the wrong type: want %s, got %s", ute.Expected.Type(), describe(ute.Value))
	}
	return []Problem{{Path: de.Name(), Message: msg}}
}

func joinPath(parent, key string) string {
	if parent == "" {
		return key
	}
	return parent + "." + key
}

// suggest returns the known key under parent closest to the unknown key, if it is close enough
// to be a typo.
func suggest(parent, key string) string {
	t := reflect.TypeFor[Config]()
	if parent != "" {
		for _, seg := range strings.Split(parent, ".") {
			if i := strings.IndexByte(seg, '['); i >= 0 {
				seg = seg[:i]
			}
			f, ok := fieldByTag(t, seg)
			if !ok {
				return ""
			}
			t = f.Type
			for t.Kind() == reflect.Slice || t.Kind() == reflect.Pointer {
				t = t.Elem()
			}
		}
	}
	if t.Kind() != reflect.Struct {
		return ""
	}
	best, bestDist := "", 3
	if len(key) < 5 {
		bestDist = 2
	}
	for i := range t.NumField() {
		tag := tagName(t.Field(i))
		if tag == "" || tag == "-" {
			continue
		}
		if d := editDistance(strings.ToLower(key), tag); d < bestDist {
			best, bestDist = tag, d
		}
	}
	return best
}

func fieldByTag(t reflect.Type, tag string) (reflect.StructField, bool) {
	if t.Kind() != reflect.Struct {
		return reflect.StructField{}, false
	}
	for i := range t.NumField() {
		if tagName(t.Field(i)) == tag {
			return t.Field(i), true
		}
	}
	return reflect.StructField{}, false
}

func tagName(f reflect.StructField) string {
	tag, _, _ := strings.Cut(f.Tag.Get("mapstructure"), ",")
	return tag
}

// editDistance is the Levenshtein distance between a and b (bytes; keys are ASCII).
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
