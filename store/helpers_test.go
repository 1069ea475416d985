package store_test

import "github.com/lib/pq"

func pqArray(v []int64) pq.Int64Array { return pq.Int64Array(v) }
