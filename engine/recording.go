package engine

import (
	"context"
	"errors"
	"os"
	"path"
	"path/filepath"
	"strconv"
	"time"

	"github.com/kakeru-dialer/kakeru/config"
	"github.com/kakeru-dialer/kakeru/freeswitch"
	"github.com/kakeru-dialer/kakeru/freeswitch/wire"
)

// Recording: the switch records a connected customer's leg (the customer and what it hears of
// the agent's room) from the moment it reaches the agent, or from the agent's request, to the
// end of the call. The attempt holds the file's path under the recordings directory at once,
// and its length and size once the call has ended.

// recording is a call's recording.
type recording struct {
	path    string // relative to freeswitch.recordings
	started time.Time
	length  time.Duration // from the switch's RECORD_STOP; 0 until then
	stopped time.Time     // when the agent had it stopped; zero: it runs to the call's end
}

// startRecording asks the switch to record a connected call into the campaign's path, once.
// requested: the agent asked (mode on_request); otherwise only mode all records.
func (e *Engine) startRecording(ctx context.Context, j *job, c *call, requested bool) {
	cfg := e.o.Config()
	camp := campaignOf(cfg, j.campaign)
	if camp == nil {
		return
	}
	switch camp.Recording.Mode {
	case config.RecordingAll:
	case config.RecordingOnRequest:
		if !requested {
			return
		}
	default:
		return
	}
	now := e.o.Now()
	e.mu.Lock()
	if c.rec != nil || c.state != callConnected {
		e.mu.Unlock()
		return
	}
	rel := camp.Recording.RecordingPath(camp.ID, j.id, c.attemptID, now.In(camp.Location))
	c.rec = &recording{path: rel, started: now}
	e.mu.Unlock()
	cmd, err := freeswitch.UUIDRecord(c.uuid, true, path.Join(cfg.FreeSWITCH.Recordings.SwitchDir(), rel))
	if err == nil {
		err = e.recordCommand(ctx, c.node, cmd)
	}
	if err != nil {
		e.o.Logger.Warn("recording not started", "job", j.id, "attempt", c.attemptID, "err", err)
		e.mu.Lock()
		c.rec = nil
		e.mu.Unlock()
		return
	}
	e.ledger.write(c.attemptID, func(ctx context.Context) {
		if err := retryWrite(ctx, func() error { return e.o.Store.StartRecording(ctx, c.attemptID, rel, now) }); err != nil {
			e.o.Logger.Warn("record the recording's start", "attempt", c.attemptID, "err", err)
		}
	})
}

// stopRecording stops a call's recording on the agent's request, once; what was recorded is
// kept, its length and size written when the call ends. A call not being recorded is left alone.
func (e *Engine) stopRecording(ctx context.Context, j *job, c *call) {
	now := e.o.Now()
	e.mu.Lock()
	r := c.rec
	if r == nil || !r.stopped.IsZero() {
		e.mu.Unlock()
		return
	}
	r.stopped = now
	e.mu.Unlock()
	cmd, err := freeswitch.UUIDRecord(c.uuid, false, path.Join(e.o.Config().FreeSWITCH.Recordings.SwitchDir(), r.path))
	if err == nil {
		_, err = e.o.Switch.API(context.WithoutCancel(ctx), c.node, cmd)
	}
	if err != nil {
		e.o.Logger.Warn("recording not stopped", "job", j.id, "attempt", c.attemptID, "err", err)
	}
}

// recordCommand sends uuid_record, asking again once when the switch refuses it: the switch
// creates the file's directories itself, and two calls creating the same new day's directory
// at once make one of them fail ("Cannot record session!", the lab's first six calls); by the
// time that answer is back the directory exists.
func (e *Engine) recordCommand(ctx context.Context, node, cmd string) error {
	_, err := e.o.Switch.API(context.WithoutCancel(ctx), node, cmd)
	var refused *freeswitch.CommandError
	if errors.As(err, &refused) && !errors.Is(err, freeswitch.ErrNoSuchChannel) {
		_, err = e.o.Switch.API(context.WithoutCancel(ctx), node, cmd)
	}
	return err
}

// recordStopped notes the length the switch gives a call's recording as it closes the file.
func (e *Engine) recordStopped(c *call, ev *wire.Event) {
	ms, err := strconv.ParseInt(ev.Header.Get("variable_record_ms"), 10, 64)
	if err != nil || ms < 0 {
		return
	}
	e.mu.Lock()
	if c.rec != nil {
		c.rec.length = time.Duration(ms) * time.Millisecond
	}
	e.mu.Unlock()
}

// finishRecording writes a recording's length and size once its call has ended, queued behind
// the attempt's outcome. The length is the switch's, or the time from its start to the end of
// the call; the size is the file's as kakeru sees it (unknown, -1, when kakeru cannot see it).
func (e *Engine) finishRecording(c *call, ended time.Time) {
	e.mu.Lock()
	if c.rec == nil {
		e.mu.Unlock()
		return
	}
	r := *c.rec // its fields change under e.mu (recordStopped, stopRecording)
	e.mu.Unlock()
	length := r.length
	if length <= 0 {
		end := ended
		if !r.stopped.IsZero() {
			end = r.stopped
		}
		length = end.Sub(r.started)
	}
	dir := e.o.Config().FreeSWITCH.Recordings.Directory
	e.ledger.write(c.attemptID, func(ctx context.Context) {
		size := int64(-1)
		if fi, err := os.Stat(filepath.Join(dir, filepath.FromSlash(r.path))); err == nil {
			size = fi.Size()
		}
		if err := retryWrite(ctx, func() error { return e.o.Store.FinishRecording(ctx, c.attemptID, length, size) }); err != nil {
			e.o.Logger.Warn("record the recording's length", "attempt", c.attemptID, "err", err)
		}
	})
}
