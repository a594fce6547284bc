package vpcflow

import (
	"context"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"

	"github.com/parquet-go/parquet-go"
	"github.com/parquet-go/parquet-go/format"

	"github.com/vigil-dev/vigil/internal/decode"
	"github.com/vigil-dev/vigil/internal/record"
)

// parquetRows is how many rows DecodeParquet reads at a time.
const parquetRows = 256

// DecodeParquet reads a flow-log file in AWS's Parquet delivery format: one column
// per field, named with underscores as in AWS's Athena DDL (account_id,
// log_status, pkt_srcaddr; hyphenated names are accepted too). Columns may be
// missing; a null is a field the record does not have, like '-' in text. Columns
// vigil does not know are kept as text in Flow.Extra and reported once.
//
// Each record's Raw is its row rendered as a text flow-log line in the file's
// column order, '-' for nulls: what @message would hold had the same flow log been
// delivered as text, so queries that parse @message work on both. Problem.Line is
// the 1-based row number. Numbers stored as text and text stored as numbers are
// both accepted; a start or end column with a TIMESTAMP logical type is converted
// to Unix seconds.
//
// A row that cannot be decoded is skipped and reported like a bad text line; a
// file that cannot be opened or a page that cannot be read ends decoding with an
// error, as an unreadable text input does.
func (d *Decoder) DecodeParquet(ctx context.Context, in decode.Input, r io.ReaderAt, size int64, emit func(*decode.Batch) error, report func(decode.Problem)) (stats decode.Stats, err error) {
	if report == nil {
		report = func(decode.Problem) {}
	}
	d.init()
	d.in = in
	d.n = 0
	d.arena = d.arena[:0]

	file, err := parquet.OpenFile(r, size, parquet.SkipBloomFilters(true))
	if err != nil {
		return stats, fmt.Errorf("vpcflow: %s is not a readable Parquet file: %w", in.Name, err)
	}
	stats.Bytes = size
	lay, scale, err := d.parquetLayout(file.Schema())
	if err != nil {
		return stats, fmt.Errorf("vpcflow: %s: %w", in.Name, err)
	}
	for _, name := range lay.unknown {
		report(decode.Problem{Input: in.Name, Reason: ReasonUnknownField,
			Detail: fmt.Sprintf("column %q is not known to vigil; its values are kept as text", name)})
	}
	if len(d.pqRows) == 0 {
		d.pqRows = make([]parquet.Row, parquetRows)
	}
	vals := make([]parquet.Value, len(lay.cols))
	var rowNo int64
	for g, rg := range file.RowGroups() {
		rows := rg.Rows()
		for {
			if err := ctx.Err(); err != nil {
				rows.Close()
				return stats, err
			}
			n, rerr := rows.ReadRows(d.pqRows)
			for _, row := range d.pqRows[:n] {
				rowNo++
				if d.n == len(d.flows) || cap(d.arena)-len(d.arena) < arenaSize/4 {
					if err := d.flush(emit, &stats); err != nil {
						rows.Close()
						return stats, err
					}
				}
				f := &d.flows[d.n]
				f.Reset()
				clear(vals)
				for _, v := range row {
					if c := v.Column(); c >= 0 && c < len(vals) {
						vals[c] = v
					}
				}
				if lerr := d.parseRow(f, lay, scale, vals); lerr != nil {
					stats.Skip(lerr.Reason)
					report(decode.Problem{Input: in.Name, Line: rowNo, Reason: lerr.Reason, Detail: lerr.Detail})
					continue
				}
				f.Stream = in.Name
				d.n++
			}
			if rerr == io.EOF {
				break
			}
			if rerr != nil {
				rows.Close()
				if err := d.flush(emit, &stats); err != nil {
					return stats, err
				}
				return stats, fmt.Errorf("vpcflow: %s: row group %d: %w", in.Name, g, rerr)
			}
			if n == 0 {
				break // no progress and no error: treat as the end of the group
			}
		}
		if err := rows.Close(); err != nil {
			return stats, fmt.Errorf("vpcflow: %s: row group %d: %w", in.Name, g, err)
		}
	}
	return stats, d.flush(emit, &stats)
}

// parquetLayout maps the file's leaf columns to fields. scale[i] converts column
// i's integers to the field's unit (TIMESTAMP columns to seconds); 0 means as is.
func (d *Decoder) parquetLayout(schema *parquet.Schema) (*layout, []int64, error) {
	paths := schema.Columns()
	if len(paths) == 0 {
		return nil, nil, fmt.Errorf("no columns in the Parquet file")
	}
	lay := &layout{cols: make([]column, len(paths))}
	scale := make([]int64, len(paths))
	for i, path := range paths {
		name := strings.Join(path, ".")
		id, ok := record.FlowFieldByLogName(name)
		if !ok {
			lay.cols[i] = column{id: extraField, name: name, extra: d.extraInterner(name)}
			lay.unknown = append(lay.unknown, name)
			continue
		}
		lay.cols[i] = knownColumn(id, name)
		if leaf, ok := schema.Lookup(path...); ok && (id == record.FlowStart || id == record.FlowEnd) {
			if lt := leaf.Node.Type().LogicalType(); lt != nil {
				if ts, ok := lt.Value.(*format.TimestampType); ok && ts.Unit.Value != nil {
					scale[i] = int64(ts.Unit.Value.Duration().Nanoseconds()) // per unit, in ns
				}
			}
		}
	}
	return lay, scale, nil
}

// parseRow renders one row as a text line into the arena (Raw) and decodes it
// with the text rules, so that both deliveries give identical records. A value
// with a space in it cannot be a flow-log field; it shows as a field count error.
func (d *Decoder) parseRow(f *record.Flow, lay *layout, scale []int64, vals []parquet.Value) *LineError {
	start := len(d.arena)
	for i, v := range vals {
		if i > 0 {
			d.arena = append(d.arena, ' ')
		}
		vs := len(d.arena)
		d.arena = appendParquetValue(d.arena, v, scale[i])
		if len(d.arena) == vs {
			d.arena = append(d.arena, '-') // null or empty
		}
	}
	line := d.arena[start:len(d.arena):len(d.arena)]
	if err := d.parseLine(f, lay, line, d.want); err != nil {
		d.arena = d.arena[:start]
		return err
	}
	f.Raw = line
	return nil
}

// appendParquetValue appends v as flow-log text; nothing for a null.
func appendParquetValue(b []byte, v parquet.Value, scale int64) []byte {
	if v.IsNull() {
		return b
	}
	switch v.Kind() {
	case parquet.Boolean:
		return strconv.AppendBool(b, v.Boolean())
	case parquet.Int32:
		return strconv.AppendInt(b, int64(v.Int32()), 10)
	case parquet.Int64:
		n := v.Int64()
		if scale > 0 {
			n = floorDiv(n, int64(1e9)/scale)
		}
		return strconv.AppendInt(b, n, 10)
	case parquet.Int96:
		return append(b, v.Int96().String()...)
	case parquet.Float:
		return appendFloat(b, float64(v.Float()))
	case parquet.Double:
		return appendFloat(b, v.Double())
	case parquet.ByteArray, parquet.FixedLenByteArray:
		return append(b, v.ByteArray()...)
	}
	return b
}

// appendFloat writes whole numbers without a fraction, so that a count stored as
// a double still parses as a number.
func appendFloat(b []byte, f float64) []byte {
	if f == math.Trunc(f) && math.Abs(f) < 1<<63 {
		return strconv.AppendInt(b, int64(f), 10)
	}
	return strconv.AppendFloat(b, f, 'f', -1, 64)
}

func floorDiv(a, b int64) int64 {
	q := a / b
	if (a%b != 0) && (a < 0) != (b < 0) {
		q--
	}
	return q
}
