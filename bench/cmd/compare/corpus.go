package main

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/vigil-dev/vigil/bench/internal/flowgen"
)

// corpus is the set of flow-log files every tool reads.
type corpus struct {
	dir    string
	layout string   // "flat": one uncompressed file; "s3": gzip files in S3 key layout
	files  []string // the flow-log files, absolute
	// vigilInputs are vigil's path arguments: the flat file, or the
	// AWSLogs/<account>/vpcflowlogs folders (so that DNS and CloudTrail files the
	// simulator writes beside them are not read).
	vigilInputs []string
	listFile    string // NUL-separated list of files, for xargs (s3 layout)
	records     int64  // records, not counting header lines
	bytes       int64  // bytes on disk
	origin      string // how the corpus was made, for the report
}

// headers is the number of header lines the tools see: one per file.
func (c *corpus) headers() int { return len(c.files) }

// flatName is the file `vigil simulate --layout flat --flow-format v2` writes.
const flatName = "vpcflow-v2.log"

// csvColumns are the v2 fields with DuckDB types; "-" reads as NULL.
const csvColumns = `{'version': 'INTEGER', 'account_id': 'VARCHAR', 'interface_id': 'VARCHAR', 'srcaddr': 'VARCHAR', 'dstaddr': 'VARCHAR', 'srcport': 'INTEGER', 'dstport': 'INTEGER', 'protocol': 'INTEGER', 'packets': 'BIGINT', 'bytes': 'BIGINT', 'start': 'BIGINT', 'end': 'BIGINT', 'action': 'VARCHAR', 'log_status': 'VARCHAR'}`

// readCSV is the DuckDB table function that reads the corpus; it replaces
// {{flows}} in the cases' SQL.
func (c *corpus) readCSV() string {
	var src string
	if c.layout == "flat" {
		src = sqlString(c.files[0])
	} else {
		// A glob, not a list: the list can be longer than an argument may be.
		src = sqlString(filepath.Join(c.dir, "AWSLogs", "*", "vpcflowlogs", "*", "*", "*", "*", "*.gz"))
	}
	return "read_csv(" + src + ", delim=' ', header=true, nullstr='-', auto_detect=false, columns=" + csvColumns + ")"
}

// awkArgv is the command that runs an awk program on the records, its output
// going through post (a shell pipeline) when post is not empty. A flat file is
// mawk's argument; gzip files go through zcat. A plain mawk is run without a
// shell, so that the shell's own memory does not count in its peak RSS.
func (c *corpus) awkArgv(mawk, progFile, post string) []string {
	args := []string{mawk, "-v", "headers=" + itoa(c.headers()), "-f", progFile}
	if c.layout == "flat" && post == "" {
		return append(args, c.files[0])
	}
	cmd := shellJoin(args)
	if c.layout == "flat" {
		cmd += " " + shellQuote(c.files[0])
	} else {
		cmd = "xargs -0 zcat -- < " + shellQuote(c.listFile) + " | " + cmd
	}
	if post != "" {
		cmd += " | " + post
	}
	return []string{"bash", "-c", "set -o pipefail; " + cmd}
}

// floorArgv counts lines as fast as the system can: wc -l, after zcat for gzip
// files. The count includes the header lines.
func (c *corpus) floorArgv() []string {
	if c.layout == "flat" {
		return []string{"wc", "-l", c.files[0]}
	}
	return []string{"bash", "-c", "set -o pipefail; xargs -0 zcat -- < " + shellQuote(c.listFile) + " | wc -l"}
}

// makeCorpus generates the corpus into dir with vigil simulate or, for the flat
// layout when vigil has no simulate command yet, with bench's own generator.
func makeCorpus(ctx context.Context, o *options, haveSimulate bool, dir string) (string, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	if haveSimulate {
		argv := []string{o.vigil, "simulate", "--out", dir, "--seed", fmt.Sprint(o.seed), "--records", fmt.Sprint(o.records), "--flow-format", "v2", "--layout", o.layout}
		logf("generating: %s", strings.Join(argv, " "))
		r, err := measure(ctx, "", argv)
		if err != nil {
			return "", err
		}
		logf("generated in %s", r.wall.Round(1e7))
		return fmt.Sprintf("`vigil simulate --seed %d --records %d --flow-format v2 --layout %s`", o.seed, o.records, o.layout), nil
	}
	if o.layout != "flat" {
		return "", fmt.Errorf("vigil simulate is not available, and bench's own generator writes only --layout flat")
	}
	logf("vigil simulate not available yet: generating %d records with bench's own generator (internal/flowgen)", o.records)
	f, err := os.Create(filepath.Join(dir, flatName))
	if err != nil {
		return "", err
	}
	if err := flowgen.Write(f, flowgen.Config{Seed: o.seed, Records: o.records}); err != nil {
		f.Close()
		return "", err
	}
	if err := f.Close(); err != nil {
		return "", err
	}
	return fmt.Sprintf("bench's own generator (`vigil simulate` was not available), seed %d", o.seed), nil
}

// openCorpus finds the flow-log files under path (a flat file, a folder holding
// vpcflow-v2.log, or a folder in S3 layout), checks that each starts with the
// version 2 header, and counts the records. Reading every byte once also puts
// the files in the page cache before anything is measured.
func openCorpus(path string) (*corpus, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, err
	}
	st, err := os.Stat(abs)
	if err != nil {
		return nil, err
	}
	c := &corpus{dir: abs}
	switch {
	case !st.IsDir():
		c.dir, c.layout, c.files = filepath.Dir(abs), "flat", []string{abs}
	case fileExists(filepath.Join(abs, "AWSLogs")):
		c.layout = "s3"
		err := filepath.WalkDir(filepath.Join(abs, "AWSLogs"), func(p string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() || !strings.HasSuffix(p, ".gz") {
				return err
			}
			rel, _ := filepath.Rel(abs, p)
			parts := strings.Split(rel, string(filepath.Separator))
			if len(parts) < 3 || parts[2] != "vpcflowlogs" {
				return nil // DNS or CloudTrail
			}
			if len(parts) != 8 {
				return fmt.Errorf("%s: not at AWSLogs/<account>/vpcflowlogs/<region>/YYYY/MM/DD/<file>", rel)
			}
			c.files = append(c.files, p)
			if d := filepath.Join(abs, "AWSLogs", parts[1], "vpcflowlogs"); !slices.Contains(c.vigilInputs, d) {
				c.vigilInputs = append(c.vigilInputs, d)
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
		if len(c.files) == 0 {
			return nil, fmt.Errorf("%s: no .gz files under AWSLogs/*/vpcflowlogs/", abs)
		}
	case fileExists(filepath.Join(abs, flatName)):
		c.layout, c.files = "flat", []string{filepath.Join(abs, flatName)}
	default:
		return nil, fmt.Errorf("%s holds neither %s nor AWSLogs/", abs, flatName)
	}
	if c.layout == "flat" {
		c.vigilInputs = c.files
	}
	for _, f := range c.files {
		n, size, err := countRecords(f)
		if err != nil {
			return nil, err
		}
		c.records += n
		c.bytes += size
	}
	if c.layout == "s3" {
		var list bytes.Buffer
		for _, f := range c.files {
			list.WriteString(f)
			list.WriteByte(0)
		}
		lf, err := os.CreateTemp("", "vigil-bench-files-*.list")
		if err != nil {
			return nil, err
		}
		if _, err := lf.Write(list.Bytes()); err != nil {
			return nil, err
		}
		if err := lf.Close(); err != nil {
			return nil, err
		}
		c.listFile = lf.Name()
	}
	return c, nil
}

// countRecords checks a flow-log file's header and counts the lines after it.
func countRecords(path string) (records, size int64, err error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, 0, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return 0, 0, err
	}
	var r io.Reader = f
	if strings.HasSuffix(path, ".gz") {
		zr, err := gzip.NewReader(f)
		if err != nil {
			return 0, 0, fmt.Errorf("%s: %w", path, err)
		}
		defer zr.Close()
		r = zr
	}
	br := bufio.NewReaderSize(r, 1<<20)
	head, err := br.ReadString('\n')
	if err != nil {
		return 0, 0, fmt.Errorf("%s: reading the header line: %w", path, err)
	}
	if strings.TrimRight(head, "\r\n") != flowgen.Header {
		return 0, 0, fmt.Errorf("%s: the first line is not the version 2 flow-log header (%q); the SQL and awk programs expect exactly its 14 fields", path, truncate(head, 200))
	}
	buf := make([]byte, 1<<20)
	var n int64
	last := byte('\n')
	for {
		k, err := br.Read(buf)
		if k > 0 {
			n += int64(bytes.Count(buf[:k], []byte{'\n'}))
			last = buf[k-1]
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			return 0, 0, fmt.Errorf("%s: %w", path, err)
		}
	}
	if last != '\n' {
		return 0, 0, fmt.Errorf("%s: the last line has no newline, so wc -l would miss it", path)
	}
	return n, st.Size(), nil
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

// sqlString quotes s as an SQL string literal.
func sqlString(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

// shellQuote quotes s for bash.
func shellQuote(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }

func shellJoin(args []string) string {
	q := make([]string, len(args))
	for i, a := range args {
		q[i] = shellQuote(a)
	}
	return strings.Join(q, " ")
}
