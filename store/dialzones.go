package store

import (
	"context"
	"fmt"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"
)

// openZones is the claim's list of the list's contact zones open now (J-8): the zones recorded
// for the list at import, each asked of open. A nil open asks for no zone check (nil result);
// otherwise the result is never nil, so that "no zone open" stays a filter.
func openZones(ctx context.Context, tx *sqlx.Tx, listID int64, open func(zone string) bool) (pq.StringArray, error) {
	if open == nil {
		return nil, nil
	}
	var zones pq.StringArray
	if err := tx.GetContext(ctx, &zones, `SELECT time_zones FROM customer_lists WHERE id = $1`, listID); err != nil {
		return nil, fmt.Errorf("read the time zones of list %d: %w", listID, err)
	}
	out := make(pq.StringArray, 0, len(zones))
	for _, z := range zones {
		if open(z) {
			out = append(out, z)
		}
	}
	return out, nil
}

// contactZoneOpen is the claim's predicate on a contact's own zone, $n the array of open zones
// (NULL: no check). A contact without a zone of its own is called in the campaign's zone, which
// the engine checked before claiming; one whose zone is not among the list's recorded zones is
// never open. No index is needed: the predicate filters rows the list's index already found.
func contactZoneOpen(n int) string {
	return fmt.Sprintf(` AND ($%d::text[] IS NULL OR c.time_zone IS NULL OR c.time_zone = ANY($%d::text[]))`, n, n)
}
