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
			for _, id := range known {
				alive[id] = up[id]
			}
			return alive, nil
		}
	} else if c.Err() != nil {
		return nil, fmt.Errorf("list channels: %w", err)
	}
	for _, id := range known {
		cmd, err := UUIDExists(id)
		if err != nil {
			return nil, err
		}
		body, err := c.API(ctx, cmd)
		if err != nil {
			return nil, fmt.Errorf("uuid_exists %s: %w", id, err)
		}
		alive[id] = strings.TrimSpace(body) == "true"
	}
	return alive, nil
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
