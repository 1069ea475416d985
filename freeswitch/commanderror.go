package freeswitch

import (
	"errors"
	"strings"
)

// ErrNoSuchChannel is what a *CommandError unwraps to when the switch said the channel the
// command named does not exist: it ended first, a normal race. Test with errors.Is.
var ErrNoSuchChannel = errors.New("no such channel")

// CommandError is an api command the switch answered with `-ERR …`: it was received and
// refused, unlike a command whose reply never came (a connection error), whose effect is unknown.
type CommandError struct {
	Command string // the command's first word, e.g. uuid_transfer
	Reply   string // the switch's reply, e.g. "-ERR No such channel!"
	// Err is what the refusal means when the reply says more than no (ErrNoSuchChannel), else
	// nil. Read once from the reply where it arrives (newCommandError), so that no caller has to
	// match the switch's wording.
	Err error
}

func (e *CommandError) Error() string { return e.Command + ": " + e.Reply }

// Unwrap gives the refusal's meaning, if the reply told one.
func (e *CommandError) Unwrap() error { return e.Err }

// newCommandError reads a -ERR reply to cmd. uuid_kill and uuid_transfer answer `-ERR No such
// channel!` for a channel that is gone, uuid_bridge `-ERR Invalid uuid` (captures 02, 11; the lab
// README).
func newCommandError(cmd, reply string) *CommandError {
	e := &CommandError{Command: firstWord(cmd), Reply: strings.TrimSpace(reply)}
	if strings.Contains(e.Reply, "No such channel") || strings.Contains(e.Reply, "Invalid uuid") {
		e.Err = ErrNoSuchChannel
	}
	return e
}
