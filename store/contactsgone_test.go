package store_test

import (
	"context"
	"io"
	"strings"
	"testing"

	"github.com/kakeru-dialer/kakeru/listimport"
	"github.com/kakeru-dialer/kakeru/store"
)

// L-7, B-5 (migration 00011): without a foreign key from contacts to their list, deleting a
// list, or a batch and its lists, still deletes their contacts, and only theirs.
func TestDeletingListsDeletesTheirContacts(t *testing.T) {
	f := newJobFixture(t, 4)
	ctx := context.Background()
	count := func(where string, args ...any) int {
		t.Helper()
		var n int
		if err := f.s.DB().QueryRowContext(ctx, `SELECT count(*) FROM contacts WHERE `+where, args...).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	other, err := f.s.ImportCSV(ctx, store.ImportInput{BatchID: f.batch.ID, Name: "other", Encoding: listimport.UTF8, CreatedBy: "admin",
		MaxRows: 100, MaxListsPerBatch: 10}, strings.NewReader("name,kana,tel\n山田,ヤマダ,07000000001\n"), io.Discard, f.now)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.s.DeleteList(ctx, f.list.ID); err != nil {
		t.Fatal(err)
	}
	if n := count(`list_id = $1`, f.list.ID); n != 0 {
		t.Fatalf("%d contacts of the deleted list left", n)
	}
	if n := count(`list_id = $1`, other.ID); n != 1 {
		t.Fatalf("the other list has %d contacts, want 1", n)
	}
	if _, err := f.s.DeleteBatch(ctx, f.batch.ID, "admin", f.now); err != nil {
		t.Fatal(err)
	}
	if n := count(`batch_id = $1`, f.batch.ID); n != 0 {
		t.Fatalf("%d contacts of the deleted batch left", n)
	}
}
