package store

import "testing"

// SetImportBatches makes the import's COPY statements copyRows rows long and its do-not-call
// lookups dncRows numbers long, for one test.
func SetImportBatches(t *testing.T, copyRows, dncRows int) {
	oldCopy, oldDNC := copyChunk, dncBatch
	copyChunk, dncBatch = copyRows, dncRows
	t.Cleanup(func() { copyChunk, dncBatch = oldCopy, oldDNC })
}
