package store

import (
	"context"
	"fmt"
	"strconv"

	"github.com/jmoiron/sqlx"

	"github.com/kakeru-dialer/kakeru/listimport"
)

// DoNotCallNumber reports whether a number is on the global do-not-call list or on campaign
// campaignID's (N-1), for the API's synchronous check of a manual dial (issue 16). The number is
// brought into the stored form first (full-width digits, separators, +81), as lists hold it; a
// number that cannot be normalised is looked up as written. list is "global" when the global
// list holds it (checked first: it wins when both do), else the campaign id as text; "" and
// false when neither holds it. The answer is advisory: CreateManualAttempt checks again in the
// transaction that records the dial.
func (s *Store) DoNotCallNumber(ctx context.Context, campaignID int, tel string) (list string, listed bool, err error) {
	list, listed, err = doNotCallNumber(ctx, s.db, campaignID, tel)
	if err != nil {
		return "", false, fmt.Errorf("check %s on the do-not-call lists of campaign %d: %w", tel, campaignID, err)
	}
	return list, listed, nil
}

// doNotCallNumber is the lookup of DoNotCallNumber on q (a transaction holding the lists' shared
// locks, or the pool); its errors are not wrapped.
func doNotCallNumber(ctx context.Context, q sqlx.QueryerContext, campaignID int, tel string) (string, bool, error) {
	norm, _ := listimport.NormalizeTel(tel)
	var lists []int
	if err := sqlx.SelectContext(ctx, q, &lists, `SELECT campaign_id FROM do_not_call
		WHERE tel = $1 AND campaign_id IN ($2, $3) ORDER BY campaign_id`, norm, GlobalDNC, campaignID); err != nil {
		return "", false, err
	}
	if len(lists) == 0 {
		return "", false, nil
	}
	if lists[0] == GlobalDNC {
		return "global", true, nil
	}
	return strconv.Itoa(lists[0]), true, nil
}
