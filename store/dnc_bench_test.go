package store_test

import (
	"context"
	"testing"

	"github.com/kakeru-dialer/kakeru/store"
	"github.com/kakeru-dialer/kakeru/store/storetest"
)

// BenchmarkDoNotCallCheck times the claim's do-not-call probe (N-1) for 10 contacts, one of them
// listed, with 100,000 numbers on the campaign's list and the global one. `kakeru bench claim`
// measures the same with 10 million numbers, and the whole claim.
func BenchmarkDoNotCallCheck(b *testing.B) {
	s := storetest.New(b)
	ctx := context.Background()
	now := at("2022-08-01 10:00")
	batch, err := s.CreateBatch(ctx, store.NewBatch{CampaignID: 1, Name: "bench", Location: tokyo, Start: store.MustDate("2022-08-01"),
		CreatedBy: "admin", RetentionDays: 180, MaxBatches: 100}, now)
	if err != nil {
		b.Fatal(err)
	}
	list := storetest.AddList(b, s, batch.ID, "08000000050")
	if _, err := s.DB().ExecContext(ctx, `INSERT INTO contacts (batch_id, list_id, line, name, kana, tel, phone_type)
		SELECT $1, $2, i + 2, '顧客', 'コキャク', '090' || lpad(i::text, 8, '0'), 'mobile' FROM generate_series(1, 9) i`,
		batch.ID, list); err != nil {
		b.Fatal(err)
	}
	if _, err := s.DB().ExecContext(ctx, `INSERT INTO do_not_call (tel, campaign_id, source, added_by, added_at)
		SELECT '080' || lpad(i::text, 8, '0'), CASE WHEN i % 10 = 0 THEN 0 ELSE 1 END, 'import', 'bench', now()
		FROM generate_series(1, 100000) i`); err != nil {
		b.Fatal(err)
	}
	if _, err := s.DB().ExecContext(ctx, `ANALYZE`); err != nil {
		b.Fatal(err)
	}
	var ids []int64
	rows, err := s.DB().QueryContext(ctx, `SELECT id FROM contacts WHERE list_id = $1`, list)
	if err != nil {
		b.Fatal(err)
	}
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			b.Fatal(err)
		}
		ids = append(ids, id)
	}
	rows.Close()
	for b.Loop() {
		listed, err := s.DoNotCallListed(ctx, 1, ids)
		if err != nil || len(listed) != 1 || !listed[0].Global {
			b.Fatalf("%+v %v", listed, err)
		}
	}
}
