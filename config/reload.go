package config

import (
	"crypto/sha256"
	"encoding/hex"
	"reflect"
	"slices"
	"strconv"
)

// Reloaded is what a SIGHUP applies: a copy of c whose Campaigns, DialGroups, Agents and Users
// come from next (both loaded and validated). The other sections need a restart; ignored names
// those of them (system, postgres, redis, freeswitch, http) that differ between c and next, so
// the caller can log that they were not applied. A Config is read-only once loaded: merged shares
// nothing mutable with c, and its lists are copies of next's.
func (c *Config) Reloaded(next *Config) (merged *Config, ignored []string) {
	m := *c
	m.FreeSWITCH.Nodes = slices.Clone(c.FreeSWITCH.Nodes)
	if next == nil {
		m.Campaigns = slices.Clone(c.Campaigns)
		m.DialGroups = slices.Clone(c.DialGroups)
		m.Agents = slices.Clone(c.Agents)
		m.Users = slices.Clone(c.Users)
		return &m, nil
	}
	m.Campaigns = slices.Clone(next.Campaigns)
	m.DialGroups = slices.Clone(next.DialGroups)
	m.Agents = slices.Clone(next.Agents)
	m.Users = slices.Clone(next.Users)

	sections := []struct {
		name      string
		prev, cur any
	}{
		{"system", c.System, next.System},
		{"postgres", c.Postgres, next.Postgres},
		{"redis", c.Redis, next.Redis},
		{"freeswitch", c.FreeSWITCH, next.FreeSWITCH},
		{"http", c.HTTP, next.HTTP},
	}
	for _, s := range sections {
		if !reflect.DeepEqual(s.prev, s.cur) {
			ignored = append(ignored, s.name)
		}
	}
	return &m, ignored
}

// Demo tokens: the ones config.example.yaml uses. They are public, so a server using them must
// warn loudly.
const (
	DemoAdminToken      = "demo-admin-token"
	DemoSupervisorToken = "demo-supervisor-token"
)

// DemoAgentToken is the demo token of the agent with the id: "demo-agent-<id>-token".
func DemoAgentToken(agentID int) string {
	return "demo-agent-" + strconv.Itoa(agentID) + "-token"
}

// DemoTokenUsers returns, in file order, the names of the users whose token is a published demo
// token: demo-admin-token, demo-supervisor-token, demo-agent-<id>-token for any configured agent
// id, or demo-<user name>-token (which also catches demo-supervisor2-token and the like).
func (c *Config) DemoTokenUsers() []string {
	hash := func(token string) string {
		sum := sha256.Sum256([]byte(token))
		return hex.EncodeToString(sum[:])
	}
	demo := map[string]bool{
		hash(DemoAdminToken):      true,
		hash(DemoSupervisorToken): true,
	}
	for _, a := range c.Agents {
		demo[hash(DemoAgentToken(a.ID))] = true
	}
	for _, u := range c.Users {
		demo[hash("demo-"+u.Name+"-token")] = true
	}
	var names []string
	for _, u := range c.Users {
		if demo[u.TokenSHA256] {
			names = append(names, u.Name)
		}
	}
	return names
}
