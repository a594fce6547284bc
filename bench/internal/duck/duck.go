// Package duck runs SQL on an in-memory DuckDB database and returns the rows as
// text, so that the harness can compare DuckDB's answers with vigil's and awk's.
package duck

import (
	"context"
	"database/sql"
	"fmt"
	"math/big"
	"strconv"
	"time"

	_ "github.com/duckdb/duckdb-go/v2" // registers the "duckdb" driver
)

// Query opens an in-memory database, runs one statement and returns its rows,
// every value formatted as text and NULL as "".
func Query(ctx context.Context, query string) ([][]string, error) {
	db, err := sql.Open("duckdb", "")
	if err != nil {
		return nil, err
	}
	defer db.Close()
	rows, err := db.QueryContext(ctx, query)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		return nil, err
	}
	vals := make([]any, len(cols))
	ptrs := make([]any, len(cols))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	var out [][]string
	for rows.Next() {
		if err := rows.Scan(ptrs...); err != nil {
			return nil, err
		}
		row := make([]string, len(cols))
		for i, v := range vals {
			row[i] = Text(v)
		}
		out = append(out, row)
	}
	return out, rows.Err()
}

// Version returns the DuckDB library version, like "v1.5.5".
func Version(ctx context.Context) (string, error) {
	rows, err := Query(ctx, "SELECT version()")
	if err != nil {
		return "", err
	}
	if len(rows) != 1 || len(rows[0]) != 1 {
		return "", fmt.Errorf("SELECT version() returned %d rows", len(rows))
	}
	return rows[0][0], nil
}

// Text formats one scanned DuckDB value: integers in decimal, floats in the
// shortest form that reads back the same, times as Unix milliseconds, NULL as "".
func Text(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		return x
	case []byte:
		return string(x)
	case bool:
		if x {
			return "1"
		}
		return "0"
	case int64:
		return strconv.FormatInt(x, 10)
	case int32:
		return strconv.FormatInt(int64(x), 10)
	case int16:
		return strconv.FormatInt(int64(x), 10)
	case int8:
		return strconv.FormatInt(int64(x), 10)
	case uint64:
		return strconv.FormatUint(x, 10)
	case uint32:
		return strconv.FormatUint(uint64(x), 10)
	case uint16:
		return strconv.FormatUint(uint64(x), 10)
	case uint8:
		return strconv.FormatUint(uint64(x), 10)
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	case float32:
		return strconv.FormatFloat(float64(x), 'f', -1, 32)
	case *big.Int:
		return x.String()
	case time.Time:
		return strconv.FormatInt(x.UnixMilli(), 10)
	default:
		return fmt.Sprint(x)
	}
}
