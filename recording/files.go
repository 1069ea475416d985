// Package recording reaches call recordings on disk: the files the switch wrote under the
// recordings directory (freeswitch.recordings.directory, as kakeru sees it). Every path is
// opened through an os.Root of that directory, so a stored path can never reach outside it.
package recording

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"strings"
)

var (
	// ErrNoDirectory: no recordings directory is configured.
	ErrNoDirectory = errors.New("no recordings directory configured")
	// ErrDirectory: the recordings directory cannot be opened (storage not mounted?).
	ErrDirectory = errors.New("recordings directory unavailable")
)

// Open opens the recording at the relative path p under dir for reading. A missing file (or one
// that is not a regular file) answers an error matching fs.ErrNotExist, a path leading outside
// dir an error of its own; ErrNoDirectory when dir is empty, ErrDirectory when dir cannot be
// opened.
func Open(dir, p string) (*os.File, fs.FileInfo, error) {
	if dir == "" {
		return nil, nil, ErrNoDirectory
	}
	root, err := os.OpenRoot(dir)
	if err != nil {
		return nil, nil, fmt.Errorf("%w: %w", ErrDirectory, err)
	}
	defer root.Close() // the file stays open without its root
	f, err := root.Open(p)
	if err != nil {
		return nil, nil, err
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, nil, err
	}
	if !st.Mode().IsRegular() {
		f.Close()
		return nil, nil, &fs.PathError{Op: "open", Path: p, Err: fs.ErrNotExist}
	}
	return f, st, nil
}

// Remove deletes the recordings at the relative paths under dir (B-6: they go with their
// attempts' history). A file already gone counts as removed; the directories holding the files
// stay (the switch may be writing a new file into one). It returns how many paths are gone
// and the errors of the others, joined.
func Remove(dir string, paths []string) (removed int, err error) {
	if len(paths) == 0 {
		return 0, nil
	}
	if dir == "" {
		return 0, fmt.Errorf("remove %d recording(s): %w", len(paths), ErrNoDirectory)
	}
	root, err := os.OpenRoot(dir)
	if err != nil {
		return 0, fmt.Errorf("remove %d recording(s): %w: %w", len(paths), ErrDirectory, err)
	}
	defer root.Close()
	var errs []error
	for _, p := range paths {
		switch err := root.Remove(p); {
		case err == nil, errors.Is(err, fs.ErrNotExist):
			removed++
		default:
			errs = append(errs, err)
		}
	}
	return removed, errors.Join(errs...)
}

// Format is a recording's format from its file name: "mp3" for .mp3, else "wav".
func Format(p string) string {
	if strings.EqualFold(path.Ext(p), ".mp3") {
		return "mp3"
	}
	return "wav"
}

// ContentType is the media type of a recording's format.
func ContentType(format string) string {
	if format == "mp3" {
		return "audio/mpeg"
	}
	return "audio/wav"
}
