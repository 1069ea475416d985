package freeswitch_test

import (
	"errors"
	"testing"

	"github.com/kakeru-dialer/kakeru/domain"
	"github.com/kakeru-dialer/kakeru/freeswitch"
)

func TestParseJobResult(t *testing.T) {
	id, err := freeswitch.ParseJobResult([]byte("+OK 55713d9f-24e6-4e14-a91a-610835258b8b\n"))
	if err != nil || id != "55713d9f-24e6-4e14-a91a-610835258b8b" {
		t.Fatalf("got %q %v", id, err)
	}
	_, err = freeswitch.ParseJobResult([]byte("-ERR USER_BUSY\n")) // capture 04-busy
	var oe *freeswitch.OriginateError
	if !errors.As(err, &oe) || oe.Cause != "USER_BUSY" || oe.Verdict().Outcome != domain.OutcomeBusy {
		t.Fatalf("got %v", err)
	}
	for _, body := range []string{"", "+OK not-a-uuid\n", "something else"} {
		if _, err := freeswitch.ParseJobResult([]byte(body)); err == nil || errors.As(err, &oe) {
			t.Errorf("%q: got %v, want a plain error", body, err)
		}
	}
}

// An originate's result is read once into what the engine needs: placed, ours, or the cause.
func TestParseOriginateResult(t *testing.T) {
	refused := freeswitch.OwnDialStringRefused
	for _, c := range []struct {
		body string
		want freeswitch.OriginateResult
	}{
		{"+OK 55713d9f-24e6-4e14-a91a-610835258b8b\n", freeswitch.OriginateResult{UUID: "55713d9f-24e6-4e14-a91a-610835258b8b"}},
		{"-ERR USER_BUSY\n", freeswitch.OriginateResult{Cause: "USER_BUSY"}},
		{"-ERR NO_NODE_CONNECTED", freeswitch.OriginateResult{Cause: "NO_NODE_CONNECTED", Own: freeswitch.OwnSwitchUnavailable}},
		{"-ERR CHAN_NOT_IMPLEMENTED\n", freeswitch.OriginateResult{Cause: "CHAN_NOT_IMPLEMENTED", Own: refused}},
		{"-ERR originate Command not found!\n", freeswitch.OriginateResult{Cause: "originate Command not found!", Own: refused}},
		{"-USAGE: <call url> <exten>\n", freeswitch.OriginateResult{Cause: "-USAGE: <call url> <exten>", Own: refused}},
		{"-ERR\n", freeswitch.OriginateResult{}},
		{"", freeswitch.OriginateResult{}},
		{"+OK not-a-uuid\n", freeswitch.OriginateResult{Cause: "+OK not-a-uuid"}},
	} {
		got := freeswitch.ParseOriginateResult([]byte(c.body))
		if got != c.want || got.Placed() != (c.want.UUID != "") {
			t.Errorf("%q: got %+v, want %+v", c.body, got, c.want)
		}
	}
}
