package store

import "testing"

// SetCopyChunk makes the import's COPY statements n rows long for one test.
func SetCopyChunk(t *testing.T, n int) {
	old := copyChunk
	copyChunk = n
	t.Cleanup(func() { copyChunk = old })
}
