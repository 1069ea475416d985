package freeswitch

import (
	"errors"
	"strings"
)

// CommandError is an api command the switch answered with `-ERR …`: it was received and
// refused, unlike a command whose reply never came (a connection error), whose effect is unknown.
type CommandError struct {
	Command string // the command's first word, e.g. uuid_transfer
	Reply   string // the switch's reply, e.g. "-ERR No such channel!"
}

func (e *CommandError) Error() string { return e.Command + ": " + e.Reply }

// IsNoSuchChannel reports whether err is the switch saying the channel a command named does not
// exist (it ended first: a normal race). uuid_kill and uuid_transfer answer `-ERR No such
// channel!`, uuid_bridge `-ERR Invalid uuid` (captures 02, 11; the lab README).
func IsNoSuchChannel(err error) bool {
	var ce *CommandError
	if !errors.As(err, &ce) {
		return false
	}
	return strings.Contains(ce.Reply, "No such channel") || strings.Contains(ce.Reply, "Invalid uuid")
}
