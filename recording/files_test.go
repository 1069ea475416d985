package recording_test

import (
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"testing"

	"github.com/kakeru-dialer/kakeru/recording"
)

func write(t *testing.T, name, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(name), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(name, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

func exists(name string) bool {
	_, err := os.Lstat(name)
	return err == nil
}

// B-6: the recordings of deleted history go; a file already gone is fine; nothing outside the
// recordings directory is touched, whatever the stored path says.
func TestRemove(t *testing.T) {
	base := t.TempDir()
	dir := filepath.Join(base, "recordings")
	write(t, filepath.Join(dir, "1/2026-03-10/11.wav"), "RIFF")
	write(t, filepath.Join(dir, "1/2026-03-10/12.mp3"), "ID3")
	write(t, filepath.Join(dir, "1/2026-03-10/13.wav"), "RIFF") // not deleted
	write(t, filepath.Join(base, "secret.wav"), "keep")
	if err := os.Symlink(filepath.Join(base, "secret.wav"), filepath.Join(dir, "1/link.wav")); err != nil {
		t.Fatal(err)
	}

	removed, err := recording.Remove(dir, []string{"1/2026-03-10/11.wav", "1/2026-03-10/12.mp3", "1/2026-03-10/gone.wav"})
	if err != nil || removed != 3 {
		t.Fatalf("Remove: %d, %v; want 3, nil", removed, err)
	}
	if exists(filepath.Join(dir, "1/2026-03-10/11.wav")) || exists(filepath.Join(dir, "1/2026-03-10/12.mp3")) {
		t.Fatal("a deleted attempt's recording is still there")
	}
	if !exists(filepath.Join(dir, "1/2026-03-10/13.wav")) || !exists(filepath.Join(dir, "1/2026-03-10")) {
		t.Fatal("Remove took a file or directory it was not given")
	}

	removed, err = recording.Remove(dir, []string{"../secret.wav", "/etc/hostname", "1/2026-03-10/13.wav"})
	if err == nil || removed != 1 {
		t.Fatalf("Remove of escaping paths: %d, %v; want 1 removed and an error", removed, err)
	}
	if !exists(filepath.Join(base, "secret.wav")) {
		t.Fatal("a path escaping the recordings directory removed a file outside it")
	}
	// A symbolic link inside is removed as a link; its target outside stays.
	if _, err := recording.Remove(dir, []string{"1/link.wav"}); err != nil {
		t.Fatal(err)
	}
	if !exists(filepath.Join(base, "secret.wav")) {
		t.Fatal("removing a link removed its target outside the directory")
	}

	if n, err := recording.Remove(dir, nil); n != 0 || err != nil {
		t.Fatalf("Remove of nothing: %d, %v", n, err)
	}
	if _, err := recording.Remove("", []string{"a.wav"}); !errors.Is(err, recording.ErrNoDirectory) {
		t.Fatalf("Remove without a directory: %v", err)
	}
	if _, err := recording.Remove(filepath.Join(base, "unmounted"), []string{"a.wav"}); !errors.Is(err, recording.ErrDirectory) {
		t.Fatal("Remove under a missing directory reported nothing")
	}
}

// Open reads a recording under the directory and nothing else: a missing file, a directory and
// an escaping path are all "not there".
func TestOpen(t *testing.T) {
	base := t.TempDir()
	dir := filepath.Join(base, "recordings")
	write(t, filepath.Join(dir, "1/2026-03-10/11.wav"), "RIFFdata")
	write(t, filepath.Join(base, "secret.wav"), "keep")
	if err := os.Symlink(filepath.Join(base, "secret.wav"), filepath.Join(dir, "1/link.wav")); err != nil {
		t.Fatal(err)
	}

	f, st, err := recording.Open(dir, "1/2026-03-10/11.wav")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(f)
	f.Close()
	if string(b) != "RIFFdata" || st.Size() != 8 {
		t.Fatalf("read %q, size %d", b, st.Size())
	}
	for _, p := range []string{"1/2026-03-10/missing.wav", "1/2026-03-10"} {
		if _, _, err := recording.Open(dir, p); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("Open(%q): %v, want not-exist", p, err)
		}
	}
	for _, p := range []string{"../secret.wav", "1/link.wav", "/etc/hostname"} {
		if f, _, err := recording.Open(dir, p); err == nil {
			f.Close()
			t.Errorf("Open(%q) reached outside the recordings directory", p)
		}
	}
	if _, _, err := recording.Open("", "a.wav"); !errors.Is(err, recording.ErrNoDirectory) {
		t.Fatalf("Open without a directory: %v", err)
	}
	if _, _, err := recording.Open(filepath.Join(base, "unmounted"), "a.wav"); !errors.Is(err, recording.ErrDirectory) {
		t.Fatalf("Open under a missing directory: %v", err)
	}
}

func TestFormat(t *testing.T) {
	for p, want := range map[string]string{"1/a.wav": "wav", "1/a.MP3": "mp3", "1/a": "wav"} {
		if got := recording.Format(p); got != want {
			t.Errorf("Format(%q) = %q, want %q", p, got, want)
		}
	}
	if recording.ContentType("mp3") != "audio/mpeg" || recording.ContentType("wav") != "audio/wav" {
		t.Error("content types")
	}
}
