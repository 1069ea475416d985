//go:build lab

package labtest

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kakeru-dialer/kakeru/freeswitch"
	"github.com/kakeru-dialer/kakeru/freeswitch/wire"
)

// raceTries is how many customers who leave as they are put through each call flow is tried
// with on the real switch.
const raceTries = 100

// TestLabCustomerRaceKeepsAgents measures, on the real switch and without the engine, what a
// customer who leaves as it is put through (0 to 30 ms after the switch took the command) does
// to the agent's phone under the two call flows: put through with `uuid_bridge C A` on the customer's CHANNEL_ANSWER (the agent parked
// with park_after_bridge), or moved into the agent's own conference room with uuid_transfer.
// The room flow must never lose the agent; the bridge flow's losses are logged (they are why
// kakeru uses rooms: docs/call-lifecycle.md).
func TestLabCustomerRaceKeepsAgents(t *testing.T) {
	bridgeLost := raceFlow(t, "bridge")
	roomLost := raceFlow(t, "room")
	t.Logf("customers leaving 0-30 ms after being put through, %d each: agent phones lost with uuid_bridge %d, in rooms %d",
		raceTries, bridgeLost, roomLost)
	if roomLost != 0 {
		t.Fatalf("the room flow lost %d agent phones", roomLost)
	}
}

// raceFlow runs raceTries customers against one agent phone with the given flow and returns how
// many times the switch hung the agent's phone up.
func raceFlow(t *testing.T, flow string) int {
	t.Helper()
	answered := make(chan string, raceTries)
	var mu sync.Mutex
	ended := map[string]string{} // uuid → hangup cause
	jobs := map[string]bool{}    // originates returned
	customers := map[string]bool{}
	events, err := dialESL(ESLAddr(), ESLPassword(), 5*time.Second, func(e *wire.Event) {
		id := e.UniqueID()
		switch e.Name() {
		case "CHANNEL_ANSWER":
			mu.Lock()
			mine := customers[id]
			mu.Unlock()
			if mine { // the customer's a-leg (its loopback b-leg answers too)
				answered <- id
			}
		case "CHANNEL_HANGUP_COMPLETE":
			mu.Lock()
			ended[id] = e.Header.Get("Hangup-Cause")
			mu.Unlock()
		case "BACKGROUND_JOB":
			mu.Lock()
			jobs[e.JobUUID()] = true
			mu.Unlock()
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	defer events.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	if _, err := events.command(ctx, "event plain CHANNEL_ANSWER CHANNEL_HANGUP_COMPLETE BACKGROUND_JOB"); err != nil {
		t.Fatal(err)
	}
	cmds, err := dialESL(ESLAddr(), ESLPassword(), 5*time.Second, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer cmds.Close()
	killer, err := dialESL(ESLAddr(), ESLPassword(), 5*time.Second, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer killer.Close()
	bg := func(cmd string) string {
		t.Helper()
		job := freeswitch.NewUUID()
		if _, err := cmds.command(ctx, "bgapi "+cmd+"\nJob-UUID: "+job); err != nil {
			t.Fatal(err)
		}
		return job
	}
	waitJob := func(job string) {
		t.Helper()
		for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(5 * time.Millisecond) {
			mu.Lock()
			done := jobs[job]
			mu.Unlock()
			if done {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s: no originate result", flow)
			}
		}
	}
	agentUp := func() string {
		t.Helper()
		a := freeswitch.NewUUID()
		app := "&park()"
		vars := "origination_uuid=" + a + ",park_after_bridge=true,ignore_early_media=true"
		if flow == "room" {
			app = "&conference(" + a + "@kakeru)"
			vars = "origination_uuid=" + a + ",ignore_early_media=true"
		}
		waitJob(bg("originate {" + vars + "}loopback/agent-9001/agents " + app))
		return a
	}
	agent := agentUp()
	lost := 0
	for i := range raceTries {
		c := freeswitch.NewUUID()
		mu.Lock()
		customers[c] = true
		mu.Unlock()
		bg(fmt.Sprintf("originate {origination_uuid=%s,ignore_early_media=true,originate_timeout=10}loopback/%s/customers &park()",
			c, StaysUp(90000+i)))
		select {
		case id := <-answered:
			// The customer leaves d after the switch accepted the command that puts it through,
			// d from 0 to 30 ms: the window in which the switch sets the bridge up (or the
			// room takes the member).
			d := time.Duration(i%100) * 300 * time.Microsecond
			if flow == "bridge" {
				_, _ = cmds.api(ctx, "uuid_bridge "+id+" "+agent)
			} else {
				_, _ = cmds.api(ctx, "uuid_transfer "+id+" 'm:^:conference:"+agent+"@kakeru' inline")
			}
			time.Sleep(d)
			_, _ = killer.api(ctx, "uuid_kill "+id)
		case <-time.After(10 * time.Second):
			t.Fatalf("%s: customer %d never answered", flow, i)
		}
		// The customer is gone within milliseconds; then see whether the agent's phone is.
		for deadline := time.Now().Add(2 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
			mu.Lock()
			_, gone := ended[c]
			mu.Unlock()
			if gone {
				break
			}
		}
		time.Sleep(50 * time.Millisecond)
		if up, _ := cmds.api(ctx, "uuid_exists "+agent); strings.TrimSpace(up) != "true" {
			mu.Lock()
			cause := ended[agent]
			mu.Unlock()
			t.Logf("%s: customer %d took the agent's phone with it (%s)", flow, i, cause)
			lost++
			agent = agentUp()
		}
	}
	_, _ = cmds.api(ctx, "uuid_kill "+agent)
	return lost
}
