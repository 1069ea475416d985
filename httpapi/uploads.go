package httpapi

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"unicode"
	"unicode/utf8"
)

// listUpload is the form of a list upload, read as it streams in: its small fields in memory,
// its file spooled to a file of the upload directory, so that memory never grows with the file
// (issue 13).
type listUpload struct {
	dir            string
	name, encoding string
	normalizeTel   string          // the normalize_tel field as sent
	seen           map[string]bool // form fields read; the first of each counts
	tooLong        map[string]bool // fields longer than maxFormValue
	file           *os.File        // nil when the form has no file
	fileName       string
}

// spoolBuffer is the size of an upload's reads from the connection and writes to its file.
const spoolBuffer = 256 << 10

// uploadPattern names the spooled files; at start only files so named are removed.
const uploadPattern = "kakeru-upload-*.csv"

// CleanUploadDir creates the upload directory (http.upload_dir) and removes the spooled files
// an earlier process left there: killed mid-upload, it could not remove its own. Only regular
// files named as the server names them go. Another instance spooling to the same directory
// loses nothing: an open file outlives its name. The owner of the server calls it at start.
func (s *Server) CleanUploadDir() {
	if err := os.MkdirAll(s.uploadDir, 0o700); err != nil {
		s.log.Warn("cannot create the upload directory", "dir", s.uploadDir, "err", err)
		return
	}
	entries, err := os.ReadDir(s.uploadDir)
	if err != nil {
		s.log.Warn("cannot read the upload directory", "dir", s.uploadDir, "err", err)
		return
	}
	removed := 0
	for _, e := range entries {
		if ok, _ := filepath.Match(uploadPattern, e.Name()); ok && e.Type().IsRegular() {
			if err := os.Remove(filepath.Join(s.uploadDir, e.Name())); err != nil {
				s.log.Warn("cannot remove an upload file left by an earlier process", "err", err)
				continue
			}
			removed++
		}
	}
	if removed > 0 {
		s.log.Info("removed upload files left by an earlier process", "dir", s.uploadDir, "files", removed)
	}
}

// maxFormValue bounds the name and encoding fields; a longer one is refused.
const maxFormValue = 4 << 10

// defaultMaxUploadBytes stands in for a configuration built in code without the limit.
const defaultMaxUploadBytes = 32 << 20

// readListUpload reads a multipart list upload of at most maxBytes, the whole request: a larger
// one is refused with 413 as soon as that many bytes are read, or at once when its declared
// length says so. The caller closes the upload, which removes its file.
func (s *Server) readListUpload(w http.ResponseWriter, r *http.Request, maxBytes int64) (*listUpload, error) {
	if maxBytes <= 0 {
		maxBytes = defaultMaxUploadBytes
	}
	if enc := r.Header.Get("Content-Encoding"); enc != "" && !strings.EqualFold(enc, "identity") {
		return nil, errorf(http.StatusUnsupportedMediaType, "unsupported_media_type",
			"send the upload without Content-Encoding (%s is not accepted)", enc)
	}
	if r.ContentLength > maxBytes {
		return nil, uploadTooLarge(maxBytes)
	}
	// Large reads from the connection, for the same reason as the spool's large writes.
	r.Body = struct {
		io.Reader
		io.Closer
	}{bufio.NewReaderSize(&throttledReader{ctx: r.Context(), r: http.MaxBytesReader(w, r.Body, maxBytes), rate: s.uploadRate},
		spoolBuffer), r.Body}
	mr, err := r.MultipartReader()
	if err != nil {
		return nil, malformedForm(err)
	}
	u := &listUpload{dir: s.uploadDir, seen: map[string]bool{}, tooLong: map[string]bool{}}
	for {
		part, err := mr.NextPart()
		if err == io.EOF {
			return u, nil
		}
		if err == nil {
			err = u.readPart(part)
			part.Close()
		}
		if err != nil {
			u.Close()
			return nil, formError(err, maxBytes)
		}
	}
}

// spoolError is a failure of the temporary file, the server's own: a 500.
type spoolError struct{ err error }

func (e *spoolError) Error() string { return "spool list upload: " + e.err.Error() }
func (e *spoolError) Unwrap() error { return e.err }

// bodyReader keeps the error reading the request gave, to tell it from the spool file's.
type bodyReader struct {
	r   io.Reader
	err error
}

func (b *bodyReader) Read(p []byte) (int, error) {
	n, err := b.r.Read(p)
	if err != nil && err != io.EOF {
		b.err = err
	}
	return n, err
}

func (u *listUpload) readPart(part *multipart.Part) error {
	name := part.FormName()
	if u.seen[name] {
		name = "" // a repeated field: the first counts, as for FormValue
	}
	switch name {
	case "name", "encoding", "normalize_tel":
		u.seen[name] = true
		b, err := io.ReadAll(io.LimitReader(part, maxFormValue+1))
		if err != nil {
			return err
		}
		u.tooLong[name] = len(b) > maxFormValue
		switch name {
		case "name":
			u.name = string(b)
		case "encoding":
			u.encoding = string(b)
		default:
			u.normalizeTel = string(b)
		}
	case "file":
		u.seen[name] = true
		// Made again if something (a temporary-file cleaner) removed it since the start.
		if err := os.MkdirAll(u.dir, 0o700); err != nil {
			return &spoolError{err}
		}
		f, err := os.CreateTemp(u.dir, uploadPattern)
		if err != nil {
			return &spoolError{err}
		}
		u.file, u.fileName = f, part.FileName()
		body := &bodyReader{r: part}
		// Large writes: the part hands out a few kilobytes a read, and a write each would cost a
		// system call per few kilobytes of a 32 MiB upload.
		// (The file hidden behind a plain Writer: bufio would hand the copy to os.File.ReadFrom,
		// which writes each read as it comes.)
		bw := bufio.NewWriterSize(struct{ io.Writer }{f}, spoolBuffer)
		if _, err := io.Copy(bw, body); err != nil {
			if body.err != nil {
				return body.err
			}
			return &spoolError{err}
		}
		if err := bw.Flush(); err != nil {
			return &spoolError{err}
		}
	}
	// Anything else is read past; the request's limit bounds it.
	_, err := io.Copy(io.Discard, part)
	return err
}

// Close removes the spooled file.
func (u *listUpload) Close() {
	if u.file != nil {
		u.file.Close()
		os.Remove(u.file.Name())
		u.file = nil
	}
}

func uploadTooLarge(maxBytes int64) error {
	return &apiError{Status: http.StatusRequestEntityTooLarge, Code: "payload_too_large",
		Message: fmt.Sprintf("the upload is larger than %d bytes, the limit (system.limits.max_upload_bytes)", maxBytes)}
}

func malformedForm(err error) error {
	return errorf(http.StatusBadRequest, "malformed_form", "send multipart/form-data with name and file: %v", err)
}

// formError maps an error reading the upload: past the limit 413, the spool file's own a 500,
// anything else a malformed (or abandoned) form.
func formError(err error, maxBytes int64) error {
	var mbe *http.MaxBytesError
	var se *spoolError
	switch {
	case errors.As(err, &mbe):
		return uploadTooLarge(maxBytes)
	case errors.As(err, &se):
		return err
	}
	return malformedForm(err)
}

// errorFileName is the download name of an upload's error CSV: the upload's name as valid text
// without control characters (PostgreSQL text holds no NUL), at most 200 characters.
func errorFileName(upload string) string {
	name := strings.Map(func(r rune) rune {
		if unicode.IsControl(r) || r == utf8.RuneError {
			return -1
		}
		return r
	}, strings.ToValidUTF8(upload, ""))
	if utf8.RuneCountInString(name) > 200 {
		name = string([]rune(name)[:200])
	}
	if strings.TrimSpace(name) == "" {
		name = "list.csv"
	}
	return name + ".errors.csv"
}
