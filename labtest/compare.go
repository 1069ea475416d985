//go:build lab

package labtest

import (
	"fmt"
	"math"
	"os"
	"slices"
	"sort"
	"strings"
	"time"
)

// TalkTolerance is how far a connected attempt's recorded talk time (bridged_at → ended_at) may
// be from the switch's (the customer's join → its leaving or hangup).
const TalkTolerance = time.Second

// eventClockSlack: Event-Date-Timestamp is the switch's core clock, which advances with its
// 20 ms timer tick and so runs up to a tick (more under load) behind the wall clock.
const eventClockSlack = 100 * time.Millisecond

// Comparison sets what the switch did (the Observer's legs) against what the engine recorded
// (attempts in PostgreSQL), call by call.
type Comparison struct {
	Attempts  []Attempt
	Customers []Leg // customer a-legs the switch saw
	Agents    []Leg // agent a-legs the switch saw

	Outcomes map[string]int // recorded outcomes
	// SwitchAnswered: customer legs the switch answered; SwitchJoined: of those, the ones that
	// joined an agent (room or bridge).
	SwitchAnswered, SwitchJoined int
	// AbandonsRecorded: attempts recorded abandoned; AbandonsSwitch: customers the switch
	// answered that never joined an agent room or bridge.
	AbandonsRecorded, AbandonsSwitch int
	AnswerToJoin                     []time.Duration // switch side, sorted
	TalkDiffs                        []time.Duration // |recorded − switch| of connected attempts, sorted

	// Problems are mismatches between the two records; AgentDrops are agent legs that ended other
	// than by the engine's NORMAL_CLEARING once released; Overlaps are numbers dialed twice at once.
	Problems   []Problem
	AgentDrops []string
	Overlaps   []string
}

// Problem is one mismatch between the switch and PostgreSQL.
type Problem struct {
	Kind   string // e.g. "talk-mismatch", "connected-not-joined"
	Detail string
}

func (p Problem) String() string { return p.Kind + ": " + p.Detail }

// Kinds counts the problems by kind.
func (c *Comparison) Kinds() map[string]int {
	out := map[string]int{}
	for _, p := range c.Problems {
		out[p.Kind]++
	}
	return out
}

// Expect is what the test knows beyond the two records.
type Expect struct {
	// Released is when the test let the agents go (job stop or leave): an agent leg that ends
	// before it, or with a cause other than NORMAL_CLEARING, was dropped (zero: only the cause).
	Released time.Time
	// ConnectDeadline is the campaign's connect_deadline: a customer the switch answered who
	// never joins an agent must be let go (abandon message, hang-up) soon after it, not left in
	// silence until the customer gives up (0: not checked).
	ConnectDeadline time.Duration
	// ClassifyLimit is the campaign's answer_analysis time limit when it classifies answers:
	// the connect deadline counts from the verdict, which may come this long after the answer.
	ClassifyLimit time.Duration
}

// abandonSlack is how long after the connect deadline an abandoned customer may still be up: the
// abandon message (half a second in the lab configuration) and the hang-up.
const abandonSlack = 1500 * time.Millisecond

// Compare matches every attempt with its channel (attempts.channel_uuid is the a-leg's
// origination_uuid) and checks the switch's legs against what the test expects.
func Compare(legs []Leg, attempts []Attempt, x Expect) *Comparison {
	released := x.Released
	c := &Comparison{Attempts: attempts, Outcomes: map[string]int{}}
	byUUID := map[string]Leg{}
	roomOwner := map[string]Leg{} // room name → the agent leg whose room it is
	for _, l := range legs {
		if !l.FromStart {
			continue // created before the observer subscribed
		}
		byUUID[l.UUID] = l
		if l.BLeg || l.ChannelName == "" {
			continue
		}
		switch l.Role() {
		case "customer":
			c.Customers = append(c.Customers, l)
		case "agent":
			c.Agents = append(c.Agents, l)
			for _, j := range l.Joins {
				if j.Kind == "room" {
					if _, taken := roomOwner[j.Room]; !taken {
						roomOwner[j.Room] = l
					}
				}
			}
		}
	}
	for _, l := range c.Agents {
		if _, ok := roomOwner[l.UUID]; !ok {
			roomOwner[l.UUID] = l // rooms named by the agent's leg UUID
		}
	}
	problem := func(kind, format string, args ...any) {
		c.Problems = append(c.Problems, Problem{Kind: kind, Detail: fmt.Sprintf(format, args...)})
	}

	recorded := map[string]bool{}
	for _, a := range attempts {
		c.Outcomes[a.Outcome]++
		if a.Outcome == "abandoned" {
			c.AbandonsRecorded++
		}
		recorded[a.ChannelUUID] = true
		l, ok := byUUID[a.ChannelUUID]
		if !ok || l.Created.IsZero() {
			problem("missing-channel", "%s: the switch never created channel %s", a, a.ChannelUUID)
			continue
		}
		if l.Up() {
			problem("still-up", "%s: the channel is still up on the switch: %s", a, l)
		}
		if l.Dest != a.Tel {
			problem("wrong-number", "%s: the switch dialed %q", a, l.Dest)
		}
		if a.Outcome == "in_progress" {
			problem("in-progress", "%s: still in progress after the switch ended it (%s)", a, l)
			continue
		}
		if a.EndedAt.IsZero() {
			problem("no-ended-at", "%s: no ended_at", a)
		}
		if !slices.Contains(FateOf(a.Tel).Outcomes(), a.Outcome) {
			problem("fate-outcome", "%s: number %s cannot end %s (its fate allows %v)", a, a.Tel, a.Outcome, FateOf(a.Tel).Outcomes())
		}
		answered := !l.Answered.IsZero()
		if answered != !a.AnsweredAt.IsZero() {
			problem("answered-mismatch", "%s: switch answered=%v, recorded answered_at=%v (%s)", a, answered, !a.AnsweredAt.IsZero(), l)
		}
		j, joined := l.FirstJoin()
		switch a.Outcome {
		case "connected":
			if !joined {
				problem("connected-not-joined", "%s: recorded connected but the customer never joined an agent on the switch (%s)", a, l)
				continue
			}
			agentLeg, ok := roomOwner[j.Room]
			if j.Kind == "bridge" {
				agentLeg, ok = byUUID[j.Peer]
			}
			if !ok || agentLeg.Role() != "agent" {
				problem("joined-no-agent", "%s: joined %s %s%s, which is no agent's (%s)", a, j.Kind, j.Room, j.Peer, l)
			} else if agentLeg.AgentID() != a.AgentID {
				problem("wrong-agent", "%s: recorded agent %d, the switch put the customer with agent %d (%s)", a, a.AgentID, agentLeg.AgentID(), l)
			}
			if a.BridgedAt.IsZero() {
				problem("no-bridged-at", "%s: connected without bridged_at", a)
				continue
			}
			diff := a.Talk() - l.Talk()
			if diff < 0 {
				diff = -diff
			}
			c.TalkDiffs = append(c.TalkDiffs, diff)
			if diff > TalkTolerance {
				problem("talk-mismatch", "%s: recorded talk %v, the switch's %v (join → end)", a, a.Talk().Round(time.Millisecond), l.Talk().Round(time.Millisecond))
			}
			if a.TalkSeconds >= 0 && absDur(time.Duration(a.TalkSeconds)*time.Second-l.Talk()) > TalkTolerance+500*time.Millisecond {
				problem("talk-seconds", "%s: talk_seconds %d, the switch's talk %v", a, a.TalkSeconds, l.Talk().Round(time.Millisecond))
			}
		case "machine":
			if !answered {
				problem("machine-not-answered", "%s: recorded machine but the switch never answered it (%s)", a, l)
			}
			if joined {
				problem("machine-reached-agent", "%s: a machine joined an agent on the switch (%s)", a, l)
			}
		case "abandoned":
			if !answered {
				problem("abandoned-not-answered", "%s: recorded abandoned but the switch never answered it (%s)", a, l)
			}
			if joined {
				problem("abandoned-but-joined", "%s: recorded abandoned but the customer joined an agent on the switch (%s)", a, l)
			}
		default:
			if answered {
				problem("failed-but-answered", "%s: the switch answered it (%s)", a, l)
			}
			if joined {
				problem("failed-but-joined", "%s: the customer joined an agent on the switch (%s)", a, l)
			}
			if want := CauseOutcome(l.Cause); want != a.Outcome {
				problem("cause-outcome", "%s: the switch's cause %s means %s", a, l.Cause, want)
			}
		}
	}

	for _, l := range c.Customers {
		if !recorded[l.UUID] {
			problem("channel-without-attempt", "customer channel %s has no attempt: %s", l.UUID, l)
		}
		if l.Answered.IsZero() {
			continue
		}
		c.SwitchAnswered++
		if j, ok := l.FirstJoin(); ok {
			c.SwitchJoined++
			c.AnswerToJoin = append(c.AnswerToJoin, j.At.Sub(l.Answered))
		} else if !FateOf(l.Dest).Machine {
			c.AbandonsSwitch++
			if x.ConnectDeadline > 0 && !l.Hangup.IsZero() && l.Hangup.Sub(l.Answered) > x.ClassifyLimit+x.ConnectDeadline+abandonSlack {
				problem("left-waiting", "customer %s answered and never joined an agent, yet was let go only %v after answer (connect deadline %v): %s",
					l.UUID, l.Hangup.Sub(l.Answered).Round(time.Millisecond), x.ConnectDeadline, l)
			}
		}
	}
	if c.AbandonsRecorded != c.AbandonsSwitch {
		problem("abandon-count", "abandons recorded %d, customers the switch answered that never joined an agent %d", c.AbandonsRecorded, c.AbandonsSwitch)
	}
	sort.Slice(c.AnswerToJoin, func(i, j int) bool { return c.AnswerToJoin[i] < c.AnswerToJoin[j] })
	sort.Slice(c.TalkDiffs, func(i, j int) bool { return c.TalkDiffs[i] < c.TalkDiffs[j] })

	for _, l := range c.Agents {
		switch {
		case l.Up():
			c.AgentDrops = append(c.AgentDrops, "still up: "+l.String())
		case l.Cause != "NORMAL_CLEARING":
			c.AgentDrops = append(c.AgentDrops, "ended "+l.Cause+": "+l.String())
		case !released.IsZero() && l.Hangup.Before(released.Add(-eventClockSlack)):
			c.AgentDrops = append(c.AgentDrops, "ended before the agents were released: "+l.String())
		}
	}

	byTel := map[string][]Leg{}
	for _, l := range c.Customers {
		byTel[l.Dest] = append(byTel[l.Dest], l)
	}
	for tel, ls := range byTel {
		sort.Slice(ls, func(i, j int) bool { return ls[i].Created.Before(ls[j].Created) })
		for i := 1; i < len(ls); i++ {
			if ls[i-1].Up() || ls[i].Created.Before(ls[i-1].Hangup) {
				c.Overlaps = append(c.Overlaps, fmt.Sprintf("%s dialed twice at once: %s / %s", tel, ls[i-1], ls[i]))
			}
		}
	}
	sort.Strings(c.Overlaps)
	return c
}

func absDur(d time.Duration) time.Duration {
	if d < 0 {
		return -d
	}
	return d
}

// Percentile of sorted durations, nearest rank (0 when empty).
func Percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := int(math.Ceil(p/100*float64(len(sorted)))) - 1
	return sorted[max(0, min(i, len(sorted)-1))]
}

// Summary is a few lines for the test log.
func (c *Comparison) Summary() string {
	var b strings.Builder
	outs := make([]string, 0, len(c.Outcomes))
	for o, n := range c.Outcomes {
		outs = append(outs, fmt.Sprintf("%s=%d", o, n))
	}
	sort.Strings(outs)
	fmt.Fprintf(&b, "attempts %d (%s); customer legs %d, answered %d, joined an agent %d\n",
		len(c.Attempts), strings.Join(outs, " "), len(c.Customers), c.SwitchAnswered, c.SwitchJoined)
	fmt.Fprintf(&b, "abandons: recorded %d, switch %d\n", c.AbandonsRecorded, c.AbandonsSwitch)
	if n := len(c.AnswerToJoin); n > 0 {
		fmt.Fprintf(&b, "answer→join on the switch (%d calls): p50 %v p90 %v p99 %v max %v\n", n,
			Percentile(c.AnswerToJoin, 50).Round(time.Millisecond), Percentile(c.AnswerToJoin, 90).Round(time.Millisecond),
			Percentile(c.AnswerToJoin, 99).Round(time.Millisecond), c.AnswerToJoin[n-1].Round(time.Millisecond))
	}
	if n := len(c.TalkDiffs); n > 0 {
		fmt.Fprintf(&b, "talk time recorded vs switch (%d calls): p50 %v max %v\n", n,
			Percentile(c.TalkDiffs, 50).Round(time.Millisecond), c.TalkDiffs[n-1].Round(time.Millisecond))
	}
	kinds := make([]string, 0)
	for k, n := range c.Kinds() {
		kinds = append(kinds, fmt.Sprintf("%s=%d", k, n))
	}
	sort.Strings(kinds)
	fmt.Fprintf(&b, "agent legs %d, dropped %d; numbers dialed twice at once %d; problems %d %v", len(c.Agents), len(c.AgentDrops), len(c.Overlaps), len(c.Problems), kinds)
	return b.String()
}

// WriteReport writes the summary, every problem, every attempt and every leg to path.
func (c *Comparison) WriteReport(path string, legs []Leg) error {
	var b strings.Builder
	b.WriteString(c.Summary() + "\n\nProblems:\n")
	for _, p := range c.Problems {
		b.WriteString("  " + p.String() + "\n")
	}
	b.WriteString("\nAgent legs dropped:\n")
	for _, d := range c.AgentDrops {
		b.WriteString("  " + d + "\n")
	}
	b.WriteString("\nNumbers dialed twice at once:\n")
	for _, o := range c.Overlaps {
		b.WriteString("  " + o + "\n")
	}
	b.WriteString("\nAttempts:\n")
	for _, a := range c.Attempts {
		b.WriteString("  " + a.String() + "\n")
	}
	b.WriteString("\nLegs seen on the switch:\n")
	for _, l := range legs {
		b.WriteString("  " + l.String() + "\n")
	}
	return os.WriteFile(path, []byte(b.String()), 0o644)
}
