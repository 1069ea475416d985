package freeswitch_test

import (
	"errors"
	"testing"
	"time"

	"github.com/kakeru-dialer/kakeru/freeswitch"
	"github.com/kakeru-dialer/kakeru/freeswitch/fsim"
	"github.com/kakeru-dialer/kakeru/freeswitch/fsim/fsimtest"
)

// A refusal says what it means where its reply is read: the switch's wordings for a channel
// that is gone (uuid_kill and uuid_transfer: "No such channel!", uuid_bridge: "Invalid uuid")
// are ErrNoSuchChannel, through API and APIBatch alike; any other refusal is only a refusal.
func TestCommandErrorNoSuchChannel(t *testing.T) {
	s := fsimtest.Start(t, fsim.Options{})
	c := simConn(t, s, nil)
	gone := freeswitch.NewUUID()
	kill, err := freeswitch.UUIDKill(gone, "NORMAL_CLEARING")
	if err != nil {
		t.Fatal(err)
	}
	var ce *freeswitch.CommandError
	if _, err := c.API(ctxTimeout(t, time.Second), kill); !errors.As(err, &ce) || !errors.Is(err, freeswitch.ErrNoSuchChannel) ||
		ce.Command != "uuid_kill" {
		t.Fatalf("kill of a missing channel: %v", err)
	}
	cmds := []string{kill, "uuid_bridge " + gone + " " + freeswitch.NewUUID(), "uuid_broadcast " + gone + " tone_stream://%(100,0,440)",
		"no_such_api_cmd"}
	_, errs, err := c.APIBatch(ctxTimeout(t, time.Second), cmds)
	if err != nil || len(errs) != len(cmds) {
		t.Fatalf("batch: %v %v", errs, err)
	}
	for i, want := range []bool{true, true, false, false} {
		if !errors.As(errs[i], &ce) || errors.Is(errs[i], freeswitch.ErrNoSuchChannel) != want {
			t.Errorf("%s: %v; want no such channel: %v", cmds[i], errs[i], want)
		}
	}
}
