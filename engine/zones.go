package engine

import (
	"sync"
	"time"

	"github.com/kakeru-dialer/kakeru/config"
)

// zoneCache keeps the locations of contacts' own zones: each claim asks for the list's zones,
// and loading one reads the zone database.
type zoneCache struct {
	mu   sync.Mutex
	locs map[string]*time.Location // nil value: not a zone
}

// load returns the zone's location, or nil for a name that is not a zone.
func (z *zoneCache) load(name string) *time.Location {
	z.mu.Lock()
	defer z.mu.Unlock()
	if loc, ok := z.locs[name]; ok {
		return loc
	}
	loc, err := time.LoadLocation(name)
	if err != nil || name == "" || name == "Local" {
		loc = nil
	}
	if z.locs == nil {
		z.locs = map[string]*time.Location{}
	}
	z.locs[name] = loc
	return loc
}

// openZone says whether the campaign's calendar is open now in a contact's own zone (J-8): a
// customer is called when the floor is open (checked before dialing) and it is open where the
// customer is. A zone that cannot be loaded is never open.
func (e *Engine) openZone(c *config.Campaign, now time.Time) func(zone string) bool {
	cal := c.CallCalendar()
	return func(zone string) bool {
		loc := e.zones.load(zone)
		return loc != nil && cal.OpenAt(now, loc)
	}
}
