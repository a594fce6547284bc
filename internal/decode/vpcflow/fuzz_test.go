package vpcflow

import (
	"bytes"
	"context"
	"errors"
	"math/bits"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/vigil-dev/vigil/internal/decode"
	"github.com/vigil-dev/vigil/internal/record"
)

var fuzzFormats = []string{"", fmtAWSTCPFlags, fmtAWSNAT, fmtAWSTGW, fmtV4, fmtV5, fmtV7, fmtV8}

var reasons = map[string]bool{
	ReasonFieldCount: true, ReasonBadAddress: true, ReasonBadNumber: true, ReasonBadAction: true,
	ReasonBadLogStatus: true, ReasonBadDirection: true, ReasonInvalidUTF8: true, ReasonLineTooLong: true,
	ReasonUnknownField: true, ReasonLineBreak: true,
}

// appendLine renders f as a text line in lay's order, '-' for absent fields: the
// inverse of decoding, for round-trip checks.
func appendLine(b []byte, lay *layout, f *record.Flow) []byte {
	for i, c := range lay.cols {
		if i > 0 {
			b = append(b, ' ')
		}
		var v record.Value
		if c.id == extraField {
			v = f.Path(c.name)
		} else {
			v = f.Get(c.id)
		}
		if v.IsMissing() {
			b = append(b, '-')
		} else {
			b = v.AppendText(b)
		}
	}
	return b
}

// checkFlow asserts what holds for every accepted record.
func checkFlow(t *testing.T, f *record.Flow) {
	t.Helper()
	for _, a := range []struct {
		id   record.FieldID
		addr interface{ IsValid() bool }
	}{{record.FlowSrcAddr, f.SrcAddr}, {record.FlowDstAddr, f.DstAddr}, {record.FlowPktSrcAddr, f.PktSrcAddr}, {record.FlowPktDstAddr, f.PktDstAddr}} {
		if f.Present.Has(a.id) != a.addr.IsValid() {
			t.Fatalf("field %d: present %v, valid address %v", a.id, f.Present.Has(a.id), a.addr.IsValid())
		}
	}
	if f.Present.Has(record.FlowAction) != (f.Action != record.ActionUnknown) ||
		f.Present.Has(record.FlowLogStatus) != (f.LogStatus != record.LogStatusUnknown) ||
		f.Present.Has(record.FlowFlowDirection) != (f.FlowDirection != record.DirectionUnknown) {
		t.Fatalf("enum present bits disagree with values: %+v", f)
	}
	if f.Version < 0 || f.Packets < 0 || f.Bytes < 0 || f.Start < 0 || f.End < 0 {
		t.Fatalf("negative number: %+v", f)
	}
	if bytes.IndexByte(f.Raw, '\n') >= 0 {
		t.Fatalf("Raw holds a newline: %q", f.Raw)
	}
}

func seedLines(f *testing.F) [][]byte {
	files, _ := filepath.Glob("testdata/*.log")
	var lines [][]byte
	for _, file := range files {
		data, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		lines = append(lines, bytes.Split(data, []byte("\n"))...)
	}
	return lines
}

// FuzzParseLine: no line panics; an accepted line yields a sane record that
// renders back to a line decoding to the same record; a refused one says why
// with one of the fixed reasons.
func FuzzParseLine(f *testing.F) {
	for i, l := range seedLines(f) {
		f.Add(uint8(i), l)
	}
	f.Add(uint8(0), []byte("2 1 e 1.2.3.4 ::1 0 0 0 0 0 0 0 ACCEPT OK"))
	decoders := make([]*Decoder, len(fuzzFormats))
	for i, fm := range fuzzFormats {
		decoders[i] = mustNew(f, Config{Format: fm})
	}
	f.Fuzz(func(t *testing.T, which uint8, line []byte) {
		d := decoders[int(which)%len(decoders)]
		var fl record.Flow
		err := d.ParseLine(line, &fl)
		if err != nil {
			var le *LineError
			if !errors.As(err, &le) || !reasons[le.Reason] || le.Detail == "" || len(le.Detail) > 300 {
				t.Fatalf("bad error %#v", err)
			}
			return
		}
		checkFlow(t, &fl)
		if !bytes.Equal(fl.Raw, trimRight(line)) {
			t.Fatalf("Raw %q, want %q", fl.Raw, trimRight(line))
		}
		again := appendLine(nil, d.base, &fl)
		var fl2 record.Flow
		if err := d.ParseLine(again, &fl2); err != nil {
			t.Fatalf("rendered line %q of %q does not decode: %v", again, line, err)
		}
		if !equalFlow(&fl, &fl2) {
			t.Fatalf("round trip of %q via %q:\n got %+v\nwant %+v", line, again, fl2, fl)
		}
	})
}

// FuzzDecode: no input panics or fails; every line is either a record or a
// problem with a line number in range; records are sane and their Raw comes from
// the input.
func FuzzDecode(f *testing.F) {
	files, _ := filepath.Glob("testdata/*.log")
	for _, file := range files {
		data, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Add([]byte("2026-11-01T00:00:05.000Z 2 1 e - - - - - - - 1 2 - NODATA\nversion srcaddr\n1.2.3.4\n"))
	d := mustNew(f, DefaultConfig())
	f.Fuzz(func(t *testing.T, data []byte) {
		lines := int64(bytes.Count(data, []byte("\n")) + 1)
		var records int64
		var problems []decode.Problem
		st, err := d.Decode(context.Background(), decode.Input{Name: "fuzz"}, bytes.NewReader(data), func(b *decode.Batch) error {
			for i := range b.Flows {
				fl := &b.Flows[i]
				checkFlow(t, fl)
				if len(fl.Raw) == 0 || !bytes.Contains(data, fl.Raw) || fl.Stream != "fuzz" {
					t.Fatalf("Raw %q not from the input", fl.Raw)
				}
				records++
			}
			return nil
		}, func(p decode.Problem) { problems = append(problems, p) })
		if err != nil {
			t.Fatalf("Decode: %v", err)
		}
		if st.Records != records || st.Bytes != int64(len(data)) || records+st.SkippedTotal() > lines {
			t.Fatalf("stats %+v for %d records, %d lines", st, records, lines)
		}
		last := int64(0)
		for _, p := range problems {
			if !reasons[p.Reason] || p.Line < 1 || p.Line > lines || p.Line < last || p.Input != "fuzz" {
				t.Fatalf("bad problem %+v (%d lines)", p, lines)
			}
			last = p.Line
		}
	})
}

// FuzzProjected: decoding a projection of the fields agrees with decoding
// every field on the fields it keeps, accepts every line the full decode
// accepts, and refuses every line of the wrong shape (it may accept more: a
// malformed field it does not read).
func FuzzProjected(f *testing.F) {
	for i, l := range seedLines(f) {
		f.Add(uint8(i), uint64(1)<<record.FlowSrcAddr|1<<record.FlowDstPort, l)
		f.Add(uint8(i), uint64(0), l)
	}
	f.Add(uint8(0), uint64(1)<<record.FlowStart, []byte("2 1 e 1.2.3.4 ::1 0 0 0 0 0 0 0 ACCEPT OK"))
	f.Add(uint8(0), uint64(1)<<record.FlowAction, []byte("2 1 e x y 0 0 0 0 0 0 0 ACCEPT OK"))
	full := make([]*Decoder, len(fuzzFormats))
	for i, fm := range fuzzFormats {
		full[i] = mustNew(f, Config{Format: fm})
	}
	f.Fuzz(func(t *testing.T, which uint8, want uint64, line []byte) {
		line = trimRight(line)
		if bytes.IndexByte(line, '\n') >= 0 {
			return
		}
		i := int(which) % len(full)
		p := &Projection{Fields: record.FieldSet(want)}
		d := mustNew(t, Config{Format: fuzzFormats[i], Project: p})
		var all, some record.Flow
		errAll := full[i].parseLine(&all, full[i].base, line, allFields)
		errSome := d.parseProjected(&some, d.base, line)
		if written := some; bits.OnesCount64(uint64(d.want)) <= 8 {
			// Decode clears a reused record's projected fields only
			// (ResetFields): nothing else may be written, error or not.
			written.ResetFields(d.want)
			if !reflect.DeepEqual(written, record.Flow{Extra: written.Extra}) {
				t.Fatalf("projection %b of %q writes other fields: %+v", want, line, some)
			}
		}
		if errSome != nil {
			if errAll == nil {
				t.Fatalf("projection %b refuses %q (%v), which decodes whole", want, line, errSome)
			}
			if !reasons[errSome.Reason] || errSome.Detail == "" {
				t.Fatalf("bad error %#v", errSome)
			}
			return
		}
		if errAll != nil {
			if errAll.Reason == ReasonFieldCount {
				t.Fatalf("projection %b accepts %q, of the wrong shape (%v)", want, line, errAll)
			}
			return // a malformed field the projection does not read
		}
		kept := d.want
		if some.Present&^kept != 0 || some.Present != all.Present&kept {
			t.Fatalf("%q with projection %b: present %b, full decode %b", line, want, some.Present, all.Present)
		}
		for _, c := range d.base.cols {
			if kept.Has(c.id) && all.Get(c.id).String() != some.Get(c.id).String() {
				t.Fatalf("%q field %s: %v, full decode %v", line, c.name, some.Get(c.id), all.Get(c.id))
			}
		}
		if len(some.Extra) != len(all.Extra) {
			t.Fatalf("%q: extra fields %v, full decode %v", line, some.Extra, all.Extra)
		}
	})
}

// FuzzNeedles: a line passed over for a needle is one whose record, decoded
// whole, lacks the needle's text in that field as like sees it (or a bad
// line): passing over never loses a record the filter keeps.
func FuzzNeedles(f *testing.F) {
	for i, l := range seedLines(f) {
		f.Add(uint8(i), uint8(3), "10.", l)
		f.Add(uint8(i), uint8(2), "eni-", l)
	}
	f.Add(uint8(0), uint8(3), "db8::", []byte("2 1 e 2001:db8:0:0:0:0:0:1 1.2.3.4 0 0 0 0 0 0 0 ACCEPT OK"))
	f.Add(uint8(0), uint8(6), "2", []byte("2 1 e 1.2.3.4 1.2.3.4 0 0022 0 0 0 0 0 ACCEPT OK"))
	full := make([]*Decoder, len(fuzzFormats))
	for i, fm := range fuzzFormats {
		full[i] = mustNew(f, Config{Format: fm})
	}
	f.Fuzz(func(t *testing.T, which, col uint8, text string, line []byte) {
		line = trimRight(line)
		if bytes.IndexByte(line, '\n') >= 0 {
			return
		}
		i := int(which) % len(full)
		cols := full[i].base.cols
		id := cols[int(col)%len(cols)].id
		p := ProjectionOf(nil)
		if !p.Require(record.FlowCatalogue.Fields[id].Name, text) {
			return
		}
		d := mustNew(t, Config{Format: fuzzFormats[i], Project: p})
		if pl := d.planFor(d.base); maskable(line) {
			if swar, mask := pl.mayMatchSWAR(line), pl.mayMatchMask(line); swar != mask {
				t.Fatalf("%q, needle %q in column %d: mayMatchSWAR %v, mayMatchMask %v", line, text, col, swar, mask)
			}
		}
		if d.mayMatch(line, d.base) {
			return
		}
		var all record.Flow
		if full[i].parseLine(&all, full[i].base, line, allFields) != nil {
			return // a bad line: passing over it loses no record
		}
		if v := all.Get(id); !v.IsMissing() && strings.Contains(string(v.AppendText(nil)), text) {
			t.Fatalf("%q passed over, but its %s %q contains %q", line, record.FlowCatalogue.Fields[id].Name, v.AppendText(nil), text)
		}
	})
}
