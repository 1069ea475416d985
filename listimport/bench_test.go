package listimport_test

import (
	"bytes"
	"fmt"
	"io"
	"testing"

	"github.com/kakeru-dialer/kakeru/listimport"
)

const benchRows = 100_000

func benchFile(tb testing.TB) []byte {
	family := []string{"山田", "佐藤", "鈴木", "髙橋", "渡邊", "伊藤"}
	given := []string{"太郎", "花子", "一郎", "美咲"}
	kana := []string{"ヤマダ タロウ", "サトウ ハナコ", "ｽｽﾞｷ ｲﾁﾛｳ", "タカハシ ミサキ"}
	var b bytes.Buffer
	b.WriteString("name,kana,tel,remarks\r\n")
	for i := range benchRows {
		remarks := ""
		if i%10 == 0 {
			remarks = `"東京都千代田区, 2F\n平日のみ"`
		}
		fmt.Fprintf(&b, "%s %s,%s,0%d%08d,%s\r\n", family[i%len(family)], given[i%len(given)], kana[i%len(kana)], 3+i%7, i, remarks)
	}
	return b.Bytes()
}

func BenchmarkReader(b *testing.B) {
	utf8 := benchFile(b)
	for _, enc := range []listimport.Encoding{listimport.UTF8, listimport.SJIS} {
		data := utf8
		if enc == listimport.SJIS {
			data = sjis(b, string(utf8))
		}
		b.Run(string(enc), func(b *testing.B) {
			b.SetBytes(int64(len(data)))
			b.ReportAllocs()
			for b.Loop() {
				r := listimport.NewReader(bytes.NewReader(data), enc)
				n := 0
				for {
					rec, err := r.Next()
					if err == io.EOF {
						break
					}
					if err != nil || len(rec.Problems) > 0 {
						b.Fatalf("%v %+v", err, rec)
					}
					n++
				}
				if n != benchRows {
					b.Fatalf("%d rows", n)
				}
			}
			b.ReportMetric(float64(b.N)*benchRows/b.Elapsed().Seconds(), "rows/s")
		})
	}
}
