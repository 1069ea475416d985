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
