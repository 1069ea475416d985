package store

import (
	"errors"
	"time"

	"github.com/kakeru-dialer/kakeru/domain"
)

// Temporary (the store branch of issue 16 replaces this file).

var (
	ErrDoNotCall     = errors.New("number is on a do-not-call list")
	ErrContactBusy   = errors.New("contact is being dialed")
	ErrJobNotRunning = errors.New("call job is not running")
)

type PreviewSkip struct {
	AttemptID int64
	Reason    string
	AgentID   int
	By        string
	At        time.Time
}

type ManualDial struct {
	JobID                             int64
	Run                               int
	AgentID                           int
	Tel, CallerID, By, Instance, Node string
	NewUUID                           func() string
}

type AttemptStep struct {
	ID, AttemptID int64
	At            time.Time
	Kind          domain.StepKind
	AgentID       *int
	By            string
	TargetKind    string
	Target        string
	Detail        string
}
