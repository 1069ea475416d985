package engine

import (
	"context"
	"time"
)

// A switch node whose connections stay down is lost (issue 17 item 5): nothing is heard of its
// calls and agents' phones, and the periodic check cannot ask about them. After nodeLossGrace
// the engine ends its calls with what is known (a connected call is connected until now, an
// answered customer never put through is abandoned, an unanswered one a network failure to
// retry) and logs its agents off with a message, so their screens tell them to join again;
// dialing goes on on the other nodes. A node that comes back may still have those legs (only
// the connection was lost): they are hung up then, since nobody looks after them any more.

// nodeLossGrace is how long a node may stay disconnected before its calls and agents are given
// up. Shorter than this, a connection is simply redialed and the periodic check settles what
// its events missed.
const nodeLossGrace = 10 * time.Second

// NodeCause is the hangup cause recorded for calls ended because their switch node was lost.
const NodeCause = "SWITCH_NODE_LOST"

// MessageNodeLost is shown to an agent logged off because its phone's switch node was lost.
const MessageNodeLost = "電話交換機との接続が失われたためジョブから退出しました"

// nodeWatch is the loop's own record of each node's connection.
type nodeWatch struct {
	downSince map[string]time.Time
	lost      map[string][]string // legs given up per lost node, hung up when it returns
}

// watchNodes gives up the calls and agents of nodes down longer than nodeLossGrace, and hangs up
// what is left of them on a node that came back. The loop only.
func (e *Engine) watchNodes(ctx context.Context, now time.Time) {
	w := &e.nodes
	if w.downSince == nil {
		w.downSince, w.lost = map[string]time.Time{}, map[string][]string{}
	}
	for _, st := range e.o.Switch.States() {
		node := st.Name
		if st.Connected {
			delete(w.downSince, node)
			if legs, ok := w.lost[node]; ok {
				delete(w.lost, node)
				e.o.Logger.Info("switch node back; hanging up the legs given up", "node", node, "legs", len(legs))
				for _, id := range legs {
					e.command(ctx, node, uuidKill(id, "NORMAL_CLEARING"))
				}
			}
			continue
		}
		since, seen := w.downSince[node]
		if !seen {
			w.downSince[node] = now
			continue
		}
		if _, given := w.lost[node]; given || now.Sub(since) < nodeLossGrace {
			continue
		}
		w.lost[node] = e.giveUpNode(ctx, node)
	}
}

// giveUpNode ends the owned jobs' calls on the node and logs their agents there off; it returns
// their legs.
func (e *Engine) giveUpNode(ctx context.Context, node string) []string {
	type callOf struct {
		j *job
		c *call
	}
	type agentOf struct {
		j *job
		a *agent
	}
	var calls []callOf
	var agents []agentOf
	legs := []string{}
	e.mu.Lock()
	for _, j := range e.jobs {
		for _, c := range j.calls {
			if c.node == node && c.live() {
				calls = append(calls, callOf{j, c})
				legs = append(legs, c.uuid)
			}
		}
		for _, a := range j.agents {
			if a.node == node {
				a.leaving, a.message = true, MessageNodeLost // no customer is given to it meanwhile
				agents = append(agents, agentOf{j, a})
				legs = append(legs, a.leg)
			}
		}
	}
	e.mu.Unlock()
	e.o.Logger.Warn("switch node lost: its calls ended and its agents logged off", "node", node,
		"calls", len(calls), "agents", len(agents))
	for _, c := range calls {
		e.endCall(ctx, c.j, c.c, NodeCause)
	}
	for _, a := range agents {
		e.agentLegEnded(ctx, a.j, a.a)
	}
	return legs
}

// agentNode is the connected node with the fewest of this instance's agents, where a joining
// agent's phone is called: agents, and so the calls paced for them, spread over the nodes, and
// a node that comes back is taken into use by the next agents who join. "" when no node is
// connected (Acquire then says so).
func (e *Engine) agentNode() string {
	perNode := map[string]int{}
	var nodes []string
	for _, st := range e.o.Switch.States() {
		if st.Connected {
			nodes = append(nodes, st.Name)
			perNode[st.Name] = 0
		}
	}
	e.mu.Lock()
	for _, j := range e.jobs {
		for _, a := range j.agents {
			if _, ok := perNode[a.node]; ok {
				perNode[a.node]++
			}
		}
	}
	e.mu.Unlock()
	best := ""
	for _, n := range nodes { // in configuration order: ties go to the first
		if best == "" || perNode[n] < perNode[best] {
			best = n
		}
	}
	return best
}

// nodeDown: the loop last saw the node disconnected. Nothing is dialed for its agents then
// (an originate there could only fail, and failures of ours in a row stop the job). The loop
// only: watchNodes writes what this reads, on the same goroutine.
func (e *Engine) nodeDown(node string) bool {
	_, down := e.nodes.downSince[node]
	return down
}
