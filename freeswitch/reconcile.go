package freeswitch

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
)

// LiveChannels tells which of the known channel UUIDs still exist on the node, so that after a
// reconnect the engine can adopt the calls that survived and close the ones that ended while it
// was away (events sent during the outage are lost). One `show channels as json` answers for
// all of them; if the listing cannot be read, each is asked with uuid_exists.
func LiveChannels(ctx context.Context, c *Conn, known []string) (alive map[string]bool, err error) {
	alive = make(map[string]bool, len(known))
	if len(known) == 0 {
		return alive, nil
	}
	if body, err := c.API(ctx, ShowChannelsJSON()); err == nil {
		if up, err := parseChannelList(body); err == nil {
			// The listing is read from the switch's core database, which is filled
			// asynchronously: a channel created moments ago may be missing from it. An absence
			// is confirmed with uuid_exists, which asks the live session table.
			var missing []string
			for _, id := range known {
				if alive[id] = up[id]; !up[id] {
					missing = append(missing, id)
				}
			}
			if err := confirmMissing(ctx, c, missing, alive); err != nil {
				return nil, err
			}
			return alive, nil
		}
	} else if c.Err() != nil {
		return nil, fmt.Errorf("list channels: %w", err)
	}
	if err := confirmMissing(ctx, c, known, alive); err != nil {
		return nil, err
	}
	return alive, nil
}

// confirmMissing asks uuid_exists for each id, in batches of one round trip.
func confirmMissing(ctx context.Context, c *Conn, ids []string, alive map[string]bool) error {
	for len(ids) > 0 {
		n := min(len(ids), maxBatch)
		cmds := make([]string, n)
		for i, id := range ids[:n] {
			cmd, err := UUIDExists(id)
			if err != nil {
				return err
			}
			cmds[i] = cmd
		}
		bodies, errs, err := c.APIBatch(ctx, cmds)
		if err != nil {
			return fmt.Errorf("uuid_exists: %w", err)
		}
		for i, id := range ids[:n] {
			if errs[i] != nil {
				return fmt.Errorf("uuid_exists %s: %w", id, errs[i])
			}
			alive[id] = strings.TrimSpace(bodies[i]) == "true"
		}
		ids = ids[n:]
	}
	return nil
}

// parseChannelList reads the uuids of `show channels as json`; an empty list is
// `{"row_count": 0}` without rows.
func parseChannelList(body string) (map[string]bool, error) {
	var v struct {
		RowCount int `json:"row_count"`
		Rows     []struct {
			UUID string `json:"uuid"`
		} `json:"rows"`
	}
	if err := json.Unmarshal([]byte(body), &v); err != nil {
		return nil, fmt.Errorf("show channels: %w", err)
	}
	if v.RowCount != len(v.Rows) {
		return nil, fmt.Errorf("show channels: row_count %d for %d rows", v.RowCount, len(v.Rows))
	}
	up := make(map[string]bool, len(v.Rows))
	for _, r := range v.Rows {
		up[r.UUID] = true
	}
	return up, nil
}
