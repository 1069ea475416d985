package listimport

import (
	"strings"
	"time"
)

// Options change how a file's rows are read. The zero value reads numbers as written.
type Options struct {
	// NormalizeTel applies NormalizeTel to the tel column before it is validated (issue 14
	// item 6); Record.TelNormalized tells which rows it changed. The error CSV keeps the rows as
	// written.
	NormalizeTel bool
}

// Names of the optional time zone column, after the standard columns (issue 14 item 2).
const (
	TimeZoneColumn   = "time_zone"
	TimeZoneColumnJA = "タイムゾーン"
)

// layout is where a header put the optional columns; -1 when absent.
type layout struct {
	width             int
	remarks, timeZone int
}

// parseHeader reads a decoded header: name,kana,tel, then remarks, then the time zone column,
// each optional. ok is false for anything else.
func parseHeader(f []string) (l layout, ok bool) {
	l = layout{width: len(f), remarks: -1, timeZone: -1}
	if len(f) < 3 || f[0] != "name" || f[1] != "kana" || f[2] != "tel" {
		return l, false
	}
	i := 3
	if i < len(f) && f[i] == "remarks" {
		l.remarks, i = i, i+1
	}
	if i < len(f) && (f[i] == TimeZoneColumn || f[i] == TimeZoneColumnJA) {
		l.timeZone, i = i, i+1
	}
	return l, i == len(f)
}

// maxZoneName is the longest zone name contacts.time_zone holds; IANA names are shorter.
const maxZoneName = 64

// maxCachedBadZones bounds the memory of a file full of distinct wrong zone names.
const maxCachedBadZones = 1024

// zoneCache remembers which zone names time.LoadLocation accepts: loading reads the zone
// database, far too slow to do for each of a million rows.
type zoneCache struct {
	known map[string]bool
	bad   int
}

// valid reports whether name is an IANA zone. "Local" and "" are not: the server's own zone
// means nothing to a contact, and an empty cell is the campaign's zone, checked by the caller.
func (c *zoneCache) valid(name string) bool {
	if ok, seen := c.known[name]; seen {
		return ok
	}
	ok := name != "Local" && len(name) <= maxZoneName && strings.IndexByte(name, 0) < 0 && isASCII(name)
	if ok {
		_, err := time.LoadLocation(name)
		ok = err == nil
	}
	if c.known == nil {
		c.known = map[string]bool{}
	}
	if ok || c.bad < maxCachedBadZones {
		c.known[name] = ok
		if !ok {
			c.bad++
		}
	}
	return ok
}
