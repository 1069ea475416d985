package store_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/kakeru-dialer/kakeru/listimport"
	"github.com/kakeru-dialer/kakeru/store"
	"github.com/kakeru-dialer/kakeru/store/storetest"
)

// addDoNotCall puts numbers on a do-not-call list (campaign 0: the global list).
func addDoNotCall(t *testing.T, s *store.Store, campaignID int, tels ...string) {
	t.Helper()
	for _, tel := range tels {
		if _, err := s.DB().ExecContext(context.Background(), `INSERT INTO do_not_call (tel, campaign_id, source, added_by, added_at)
			VALUES ($1, $2, 'api', 'test', now())`, tel, campaignID); err != nil {
			t.Fatal(err)
		}
	}
}

func importFile(t *testing.T, s *store.Store, batchID int64, in store.ImportInput, file string) (store.CustomerList, *store.ImportRefusal, string) {
	t.Helper()
	in.BatchID, in.Name, in.Encoding, in.CreatedBy = batchID, "list", listimport.UTF8, "admin"
	in.MaxRows, in.MaxListsPerBatch = 1000, 10
	var errCSV bytes.Buffer
	list, err := s.ImportCSV(context.Background(), in, strings.NewReader(file), &errCSV, at("2022-08-01 10:00"))
	var refusal *store.ImportRefusal
	if errors.As(err, &refusal) {
		return list, refusal, errCSV.String()
	}
	if err != nil {
		t.Fatal(err)
	}
	return list, nil, ""
}

type lineCode struct {
	Line int
	Code string
}

func lineCodes(r *store.ImportRefusal) []lineCode {
	var out []lineCode
	for _, p := range r.Problems {
		out = append(out, lineCode{p.Line, p.Code})
	}
	return out
}

const dncFile = "name,kana,tel\n山田,ヤマダ,0311111111\n佐藤,サトウ,0322222222\n鈴木,スズキ,0333333333\n田中,タナカ,0344444444\n"

func dncFixture(t *testing.T) (*store.Store, store.Batch) {
	s := storetest.New(t)
	b := newBatch(t, s, at("2022-08-01 10:00"), "2022-08-01") // campaign 1
	addDoNotCall(t, s, 0, "0311111111")                       // global
	addDoNotCall(t, s, 1, "0322222222")                       // the batch's campaign
	addDoNotCall(t, s, 2, "0333333333")                       // another campaign: not this batch's concern
	return s, b
}

// Issue 14 item 1, on_import: flag. Rows on the global list or the campaign's are imported and
// counted; another campaign's list does not count. (Looked up two numbers at a time, while
// the copy goes on.)
func TestImportDoNotCallFlag(t *testing.T) {
	store.SetImportBatches(t, 3, 2)
	s, b := dncFixture(t)
	list, refusal, _ := importFile(t, s, b.ID, store.ImportInput{}, dncFile)
	if refusal != nil {
		t.Fatalf("refused: %+v", refusal.Problems)
	}
	if list.RowCount != 4 || list.DoNotCallCount != 2 {
		t.Errorf("rows %d, do-not-call %d; want 4, 2", list.RowCount, list.DoNotCallCount)
	}
	if n := storetest.Count(t, s, "contacts", "list_id = $1", list.ID); n != 4 {
		t.Errorf("%d contacts", n)
	}
}

// Issue 14 item 1, on_import: refuse. Each such row is a line-numbered problem, nothing is
// imported, and the error CSV names them.
func TestImportDoNotCallRefuse(t *testing.T) {
	store.SetImportBatches(t, 2, 1)
	s, b := dncFixture(t)
	_, refusal, errCSV := importFile(t, s, b.ID, store.ImportInput{RefuseDoNotCall: true}, dncFile)
	if refusal == nil {
		t.Fatal("imported")
	}
	want := []lineCode{{2, "tel_do_not_call"}, {3, "tel_do_not_call"}}
	if got := lineCodes(refusal); !reflect.DeepEqual(got, want) || refusal.Total != 2 || refusal.DoNotCallCount != 2 {
		t.Errorf("problems %v (total %d, count %d), want %v", got, refusal.Total, refusal.DoNotCallCount, want)
	}
	if p := refusal.Problems[0]; p.Column != "tel" || p.Message != "tel:発信禁止リストに登録されている番号です" || p.MessageEn == "" {
		t.Errorf("%+v", p)
	}
	if !strings.Contains(errCSV, "0311111111,tel:発信禁止リストに登録されている番号です") ||
		!strings.Contains(errCSV, "0322222222,tel:発信禁止リストに登録されている番号です") || !strings.Contains(errCSV, "0344444444,\r\n") {
		t.Errorf("error CSV:\n%s", errCSV)
	}
	if n := storetest.Count(t, s, "customer_lists", "batch_id = $1", b.ID); n != 0 {
		t.Errorf("%d lists written", n)
	}
	if n := storetest.Count(t, s, "contacts", "batch_id = $1", b.ID); n != 0 {
		t.Errorf("%d contacts written", n)
	}
}

// A file with other problems is read into the staging table: the do-not-call rows, the
// duplicates and the rows' own problems are all reported, by line.
func TestImportDoNotCallRefuseWithOtherProblems(t *testing.T) {
	s, b := dncFixture(t)
	storetest.AddList(t, s, b.ID, "0355555555")
	file := dncFile + "null,ナシ,0366666666\n伊藤,イトウ,0355555555\n加藤,カトウ,0344444444\n"
	_, refusal, errCSV := importFile(t, s, b.ID, store.ImportInput{RefuseDoNotCall: true}, file)
	if refusal == nil {
		t.Fatal("imported")
	}
	want := []lineCode{{2, "tel_do_not_call"}, {3, "tel_do_not_call"}, {6, "name_null"}, {7, "tel_duplicate"}, {8, "tel_duplicate"}}
	if got := lineCodes(refusal); !reflect.DeepEqual(got, want) || refusal.Total != 5 {
		t.Errorf("problems %v (total %d), want %v", got, refusal.Total, want)
	}
	if strings.Count(errCSV, "発信禁止リスト") != 2 || strings.Count(errCSV, "同一の電話番号") != 2 {
		t.Errorf("error CSV:\n%s", errCSV)
	}
	// Flagging, the same file is refused for its other problems only.
	_, refusal, _ = importFile(t, s, b.ID, store.ImportInput{}, file)
	want = []lineCode{{6, "name_null"}, {7, "tel_duplicate"}, {8, "tel_duplicate"}}
	if got := lineCodes(refusal); !reflect.DeepEqual(got, want) || refusal.DoNotCallCount != 2 {
		t.Errorf("problems %v (do-not-call %d), want %v", got, refusal.DoNotCallCount, want)
	}
}

// Issue 14 item 6: normalisation is opt-in, counted, and its numbers are the ones stored and
// looked up on the do-not-call lists.
func TestImportNormalizeTel(t *testing.T) {
	s, b := dncFixture(t)
	file := "name,kana,tel\n山田,ヤマダ,03-1111-1111\n佐藤,サトウ,０３（２２２２）２２２２\n鈴木,スズキ,0344444444\n"
	_, refusal, _ := importFile(t, s, b.ID, store.ImportInput{}, file)
	if want := []lineCode{{2, "tel_format"}, {3, "tel_format"}}; refusal == nil || !reflect.DeepEqual(lineCodes(refusal), want) {
		t.Fatalf("without normalize_tel numbers are validated as written: %+v", refusal)
	}
	list, refusal, _ := importFile(t, s, b.ID, store.ImportInput{NormalizeTel: true}, file)
	if refusal != nil {
		t.Fatalf("refused: %+v", refusal.Problems)
	}
	if list.NormalizedCount != 2 || list.DoNotCallCount != 2 || list.RowCount != 3 {
		t.Errorf("normalized %d, do-not-call %d, rows %d", list.NormalizedCount, list.DoNotCallCount, list.RowCount)
	}
	if n := storetest.Count(t, s, "contacts", "list_id = $1 AND tel IN ('0311111111', '0322222222', '0344444444')", list.ID); n != 3 {
		t.Errorf("%d contacts with the normalised numbers", n)
	}
	// A normalised number that is then a duplicate is reported on its line, and counted.
	_, refusal, errCSV := importFile(t, s, b.ID, store.ImportInput{NormalizeTel: true}, "name,kana,tel\n伊藤,イトウ,03 4444 4444\n")
	if refusal == nil || !reflect.DeepEqual(lineCodes(refusal), []lineCode{{2, "tel_duplicate"}}) || refusal.NormalizedCount != 1 {
		t.Fatalf("%+v", refusal)
	}
	if !strings.Contains(errCSV, "03 4444 4444,") {
		t.Errorf("the error CSV keeps the number as written:\n%s", errCSV)
	}
}

// Issue 14 item 2: the optional time zone column fills contacts.time_zone (NULL when empty) and
// the list's zones; a bad zone is a line-numbered problem.
func TestImportTimeZoneColumn(t *testing.T) {
	s := storetest.New(t)
	b := newBatch(t, s, at("2022-08-01 10:00"), "2022-08-01")
	file := "name,kana,tel,remarks,タイムゾーン\n山田,ヤマダ,0311111111,,America/New_York\n佐藤,サトウ,0322222222,,\n" +
		"鈴木,スズキ,0333333333,,Asia/Tokyo\n田中,タナカ,0344444444,,America/New_York\n"
	list, refusal, _ := importFile(t, s, b.ID, store.ImportInput{}, file)
	if refusal != nil {
		t.Fatalf("refused: %+v", refusal.Problems)
	}
	want := []string{"America/New_York", "Asia/Tokyo"}
	if !reflect.DeepEqual([]string(list.TimeZones), want) {
		t.Errorf("list zones %v, want %v", list.TimeZones, want)
	}
	got, err := s.GetList(context.Background(), list.ID)
	if err != nil || !reflect.DeepEqual([]string(got.TimeZones), want) {
		t.Errorf("stored zones %v %v", got.TimeZones, err)
	}
	if n := storetest.Count(t, s, "contacts", "list_id = $1 AND time_zone IS NULL AND tel = '0322222222'", list.ID); n != 1 {
		t.Error("an empty zone is NULL: the campaign's")
	}
	if n := storetest.Count(t, s, "contacts", "list_id = $1 AND time_zone = 'America/New_York'", list.ID); n != 2 {
		t.Errorf("%d contacts in New York", n)
	}
	// Without the column, a list has no zones of its own.
	plain, _, _ := importFile(t, s, b.ID, store.ImportInput{}, "name,kana,tel\n伊藤,イトウ,0355555555\n")
	if len(plain.TimeZones) != 0 || storetest.Count(t, s, "contacts", "list_id = $1 AND time_zone IS NOT NULL", plain.ID) != 0 {
		t.Errorf("zones %v", plain.TimeZones)
	}
	_, refusal, errCSV := importFile(t, s, b.ID, store.ImportInput{}, "name,kana,tel,time_zone\n加藤,カトウ,0366666666,Tokyo\n")
	if refusal == nil || !reflect.DeepEqual(lineCodes(refusal), []lineCode{{2, "time_zone_invalid"}}) {
		t.Fatalf("%+v", refusal)
	}
	if !strings.Contains(errCSV, "Tokyo,time_zone:タイムゾーンが正しくありません") {
		t.Errorf("error CSV:\n%s", errCSV)
	}
}

// L-8: a list is copied in chunks of statements (each bounded by statement_timeout); every
// chunk lands, and a duplicate in a later chunk still refuses the whole file.
func TestImportInChunks(t *testing.T) {
	store.SetImportBatches(t, 3, 2)
	s := storetest.New(t)
	b := newBatch(t, s, at("2022-08-01 10:00"), "2022-08-01")
	var file strings.Builder
	file.WriteString("name,kana,tel\n")
	for i := range 8 {
		fmt.Fprintf(&file, "顧客%d,コキャク,031111000%d\n", i, i)
	}
	list, refusal, _ := importFile(t, s, b.ID, store.ImportInput{}, file.String())
	if refusal != nil || list.RowCount != 8 || storetest.Count(t, s, "contacts", "list_id = $1", list.ID) != 8 {
		t.Fatalf("rows %d, refusal %+v", list.RowCount, refusal)
	}
	_, refusal, _ = importFile(t, s, b.ID, store.ImportInput{}, "name,kana,tel\n"+
		"a,a,0322220000\nb,b,0322220001\nc,c,0322220002\nd,d,0322220003\ne,e,0322220004\nf,f,0322220005\ng,g,0322220001\n")
	if refusal == nil || !reflect.DeepEqual(lineCodes(refusal), []lineCode{{8, "tel_duplicate"}}) {
		t.Fatalf("%+v", refusal)
	}
	if n := storetest.Count(t, s, "contacts", "batch_id = $1", b.ID); n != 8 {
		t.Errorf("%d contacts: the refused file's first chunks were kept", n)
	}
}

// A pool with no connection to spare for the do-not-call lookup (postgres.api_max_conns: 1)
// does not hold the import up: the numbers are then looked up in its own transaction.
func TestImportDoNotCallOnePoolConnection(t *testing.T) {
	s, err := store.OpenPool(context.Background(), storetest.DSN(t), store.Pool{MaxConns: 1})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	b := newBatch(t, s, at("2022-08-01 10:00"), "2022-08-01")
	addDoNotCall(t, s, 0, "0311111111", "0366666666")
	list, refusal, _ := importFile(t, s, b.ID, store.ImportInput{}, dncFile)
	if refusal != nil || list.DoNotCallCount != 1 || list.RowCount != 4 {
		t.Fatalf("list %+v, refusal %+v", list, refusal)
	}
	_, refusal, _ = importFile(t, s, b.ID, store.ImportInput{RefuseDoNotCall: true}, "name,kana,tel\n伊藤,イトウ,0355555555\n加藤,カトウ,0366666666\n")
	if refusal == nil || !reflect.DeepEqual(lineCodes(refusal), []lineCode{{3, "tel_do_not_call"}}) {
		t.Fatalf("%+v", refusal)
	}
}
