package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/vigil-dev/vigil/internal/finding"
)

// findingWriter writes findings one at a time, so that an export of any size
// holds one page in memory.
type findingWriter interface {
	Write(f *finding.Finding) error
	Close() error
}

// exportFormats are the formats of vigil findings export, by name. json and
// jsonl are GuardDuty's finding JSON as the API returns it. This is the hook
// for internal/export: its formats (EventBridge events, Security Hub ASFF,
// OCSF) register here from a file of their own, e.g.
//
//	func init() { exportFormats["asff"] = func(w io.Writer) findingWriter { return asffWriter(w) } }
var exportFormats = map[string]func(io.Writer) findingWriter{
	"json":  func(w io.Writer) findingWriter { return newJSONFindingWriter(w) },
	"jsonl": func(w io.Writer) findingWriter { return newJSONLFindingWriter(w) },
}

// jsonFindingWriter writes a JSON array, streaming: one finding is encoded at
// a time into a reused buffer.
type jsonFindingWriter struct {
	w   *bufio.Writer
	buf bytes.Buffer
	enc *json.Encoder
	n   int
	err error
}

func newJSONFindingWriter(w io.Writer) *jsonFindingWriter {
	j := &jsonFindingWriter{w: bufio.NewWriter(w)}
	j.enc = json.NewEncoder(&j.buf)
	j.enc.SetEscapeHTML(false) // C&CActivity, not C\u0026CActivity
	j.enc.SetIndent("  ", "  ")
	return j
}

func (j *jsonFindingWriter) Write(f *finding.Finding) error {
	if j.err != nil {
		return j.err
	}
	j.buf.Reset()
	if j.n == 0 {
		j.buf.WriteString("[\n  ")
	} else {
		j.buf.WriteString(",\n  ")
	}
	j.n++
	if err := j.enc.Encode(f); err != nil {
		j.err = fmt.Errorf("encode finding %s: %w", f.ID, err)
		return j.err
	}
	_, j.err = j.w.Write(bytes.TrimSuffix(j.buf.Bytes(), []byte("\n")))
	return j.err
}

func (j *jsonFindingWriter) Close() error {
	if j.err != nil {
		return j.err
	}
	end := "\n]\n"
	if j.n == 0 {
		end = "[]\n"
	}
	if _, err := j.w.WriteString(end); err != nil {
		return err
	}
	return j.w.Flush()
}

// jsonlFindingWriter writes one finding per line.
type jsonlFindingWriter struct {
	w   *bufio.Writer
	enc *json.Encoder
}

func newJSONLFindingWriter(w io.Writer) *jsonlFindingWriter {
	bw := bufio.NewWriter(w)
	enc := json.NewEncoder(bw)
	enc.SetEscapeHTML(false)
	return &jsonlFindingWriter{w: bw, enc: enc}
}

func (j *jsonlFindingWriter) Write(f *finding.Finding) error { return j.enc.Encode(f) }
func (j *jsonlFindingWriter) Close() error                   { return j.w.Flush() }

func newFindingsExportCmd(g *globals, rf *remoteFlags) *cobra.Command {
	var cf criteriaFlags
	var format, outPath, sort string
	var limit int
	cmd := &cobra.Command{
		Use:   "export",
		Short: "Write findings as GuardDuty JSON, EventBridge events, Security Hub ASFF or OCSF",
		Long: `export writes the findings matching the criteria (all by default), page by page:
as GuardDuty's finding JSON, a JSON array (--format json) or one finding per line
(--format jsonl); as the events GuardDuty sends to EventBridge (eventbridge); in
Security Hub's AWS Security Finding Format (asff, a BatchImportFindings body); or
as OCSF Detection Findings (ocsf). Add -lines to the last three for one record per
line. With --out the file is written whole or not at all: it appears under its
name only once complete. See docs/exports.md.`,
		Example: `  vigil findings export > findings.json
  vigil findings export --format jsonl --where updatedAt>=2026-11-01 --where archived=false --out new.jsonl
  vigil findings export --format asff --where severity>=7 > high.asff.json
  vigil findings export --format ocsf-lines --out findings.ocsf.jsonl`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			newWriter, ok := exportFormats[format]
			if !ok {
				return usagef("--format %q: want %s", format, strings.Join(slices.Sorted(maps.Keys(exportFormats)), ", "))
			}
			crit, err := cf.parse(cmd.InOrStdin())
			if err != nil {
				return err
			}
			srt, err := parseSort(sort)
			if err != nil {
				return err
			}
			if limit < 0 {
				return usagef("--limit must not be negative (0 exports all)")
			}
			c, err := rf.client(g)
			if err != nil {
				return err
			}
			dst := g.stdout
			var tmp *os.File
			if outPath != "" && outPath != "-" {
				tmp, err = os.CreateTemp(filepath.Dir(outPath), "."+filepath.Base(outPath)+".*")
				if err != nil {
					return fmt.Errorf("--out: %w", err)
				}
				defer os.Remove(tmp.Name()) // after the rename, a no-op
				defer tmp.Close()
				dst = tmp
			}
			fw := newWriter(dst)
			n := 0
			var werr error
			err = c.EachFinding(cmd.Context(), crit, srt, 500, limit, func(fs []finding.Finding) bool {
				for i := range fs {
					if werr = fw.Write(&fs[i]); werr != nil {
						return false
					}
					n++
				}
				return true
			})
			if err == nil {
				err = werr
			}
			if cerr := fw.Close(); err == nil {
				err = cerr
			}
			if err != nil {
				return err
			}
			if tmp != nil {
				if err := tmp.Close(); err != nil {
					return fmt.Errorf("--out: %w", err)
				}
				if err := os.Rename(tmp.Name(), outPath); err != nil {
					return fmt.Errorf("--out: %w", err)
				}
				fmt.Fprintf(g.stderr, "vigil: wrote %s to %s\n", plural(n, "finding"), outPath)
			}
			return nil
		},
	}
	cf.register(cmd)
	cmd.Flags().StringVar(&format, "format", "json", "json (an array), jsonl (one finding per line), eventbridge, asff, ocsf (add -lines for one record per line)")
	cmd.Flags().StringVar(&outPath, "out", "", "write to this file instead of standard output")
	cmd.Flags().StringVar(&sort, "sort", "", "sort by attribute[:asc|desc] (default updatedAt:desc)")
	cmd.Flags().IntVar(&limit, "limit", 0, "findings exported at most; 0 exports all")
	return cmd
}
