package main

import "fmt"

// The benchmark cases. Each is one question asked of the same flow-log files in
// four ways — vigil, DuckDB SQL, an awk program, and (for counting) wc -l as the
// floor — and the answers must agree.
//
// Conventions the SQL and awk programs follow, so that the harness can compare
// their answers with each other and with vigil's:
//
//   - Output columns are in the order of the case's shape, tab-separated; a
//     missing value is an empty field (SQL NULL, a "-" field in the log).
//   - {{flows}} in the SQL stands for read_csv(...) over the input files with
//     the columns version, account_id, interface_id, srcaddr, dstaddr, srcport,
//     dstport, protocol, packets, bytes, "start", "end", action, log_status
//     (typed; "-" is NULL).
//   - The awk program reads the raw lines (for gzip inputs, zcat's output, so a
//     header line appears once per file); `-v headers=N` tells it how many header
//     lines there are, and every other program skips lines whose $1 is
//     "version". Fields: $1 version, $2 account-id, $3 interface-id, $4 srcaddr,
//     $5 dstaddr, $6 srcport, $7 dstport, $8 protocol, $9 packets, $10 bytes,
//     $11 start, $12 end, $13 action, $14 log-status.
//   - Queries that end in `sort … | limit N` are answered by the peers "with
//     ties": every row whose sort value equals the N-th row's is printed too
//     (SQL: QUALIFY rank() OVER (…) <= N; awk: sort, then the limiter below), so
//     that any of the equally right answers vigil may give can be checked.
//
// Logs Insights semantics to keep (shared/reference/logs-insights.md):
//   - `like 'x'` is a case-sensitive substring test, not SQL LIKE: contains() in
//     SQL, index() in awk. `srcAddr like '10.10.'` also matches 110.10.1.2.
//   - A comparison with a missing field is false ("-" never equals anything).
//   - count(f) counts records where f is present; count(*) counts all.
//   - sum/count_distinct skip missing values; sum over no values is missing, and
//     a group whose key is missing is one group with an empty key.
//   - @timestamp of a flow record is start × 1000 ms; bin(5m) floors it to 300 s.
//   - `sort x desc` puts missing values last.

// needs names the vigil subcommand a case depends on.
const (
	needCat   = "cat"
	needQuery = "query"
	needScan  = "scan"
)

type benchCase struct {
	name string
	// query is the Logs Insights query (query cases only).
	query string
	// needs is the vigil subcommand the case runs; the harness checks that
	// `vigil NEEDS --help` succeeds before it runs vigil, and skips vigil
	// (still running and cross-checking the peers) when it does not.
	needs string
	// vigil returns the arguments after the binary's name, given the inputs
	// (the flat file, or the S3-layout folders).
	vigil func(inputs []string) []string
	// parseVigil turns vigil's standard output into the canonical answer.
	parseVigil func(stdout []byte, sh shape) (answer, error)
	// sql is DuckDB's statement, {{flows}} standing for the read_csv call.
	sql string
	// awk is the mawk program, and awkPost an optional shell pipeline its output
	// goes through (sorting and limiting with ties).
	awk, awkPost string
	// floor adds `wc -l` (or `zcat | wc -l`) as the floor peer: its answer is the
	// line count less the header lines.
	floor bool
	// shape describes the answer's columns and order, for the comparison.
	shape shape
	// solo cases have no peer (nothing else runs GuardDuty's detections): vigil
	// is measured, and check judges its answer instead of a peer.
	solo  bool
	check func(answer) error
	// relativeTo names the case whose vigil wall time this one's is reported
	// against (scan against the NAT port-scan query, as the detection issue
	// asks: at most 2x).
	relativeTo string
}

// limitWithTies is the awk limiter for `sort … | limit n` on tab-separated rows
// already sorted on column col: it prints the first n rows and every later row
// that ties with the n-th on col.
func limitWithTies(col, n int) string {
	return `mawk -F '\t' -v k=` + itoa(col) + ` -v n=` + itoa(n) + ` 'NR <= n { print; last = $k; next } $k == last { print }'`
}

// sortDesc sorts tab-separated rows numerically descending on column col, in the
// C locale. Empty (missing) values sort as 0, that is last for the non-negative
// counts and sums here.
func sortDesc(col int) string {
	return `LC_ALL=C sort -t "$(printf '\t')" -k` + itoa(col) + `,` + itoa(col) + `nr`
}

// natPortScanQuery is the query AWS's knowledge-center article gives for "which
// instance behind my NAT gateway is port scanning?". With count(dstPort) it
// counts flows per port, not ports (logs-insights.md §9.7); it is benchmarked as
// users run it.
const natPortScanQuery = `filter (dstAddr like '10.10.2.68' and srcAddr like '10.10.') | stats count(dstPort) as portsScanned by srcAddr, dstAddr, dstPort | sort portsScanned desc | limit 100`

// countQuery counts the records.
const countQuery = `stats count(*) as records`

var cases = []benchCase{
	{
		name:       "count records",
		needs:      needCat,
		vigil:      func(in []string) []string { return append([]string{"cat", "--count"}, in...) },
		parseVigil: parseCatCount,
		sql:        `SELECT count(*) FROM {{flows}}`,
		awk:        `END { print NR - headers }`,
		floor:      true,
		shape:      shape{cols: []column{{"records", num}}},
	},
	{
		// The same count as a query: vigil query decodes only the fields a
		// query reads, none for this one (only each line's shape is checked),
		// as DuckDB's count(*) converts no column; cat --count above decodes
		// every field of every record.
		name:       "count records, query",
		query:      countQuery,
		needs:      needQuery,
		vigil:      queryArgs(countQuery),
		parseVigil: parseQueryCSV,
		sql:        `SELECT count(*) AS records FROM {{flows}}`,
		awk:        `END { print NR - headers }`,
		floor:      true,
		shape:      shape{cols: []column{{"records", num}}},
	},
	{
		name:       "NAT port scan",
		query:      natPortScanQuery,
		needs:      needQuery,
		vigil:      queryArgs(natPortScanQuery),
		parseVigil: parseQueryCSV,
		sql: `WITH g AS (
  SELECT srcaddr, dstaddr, dstport, count(dstport) AS portsScanned
  FROM {{flows}}
  WHERE contains(dstaddr, '10.10.2.68') AND contains(srcaddr, '10.10.')
  GROUP BY srcaddr, dstaddr, dstport)
SELECT srcaddr, dstaddr, dstport, portsScanned FROM g
QUALIFY rank() OVER (ORDER BY portsScanned DESC NULLS LAST) <= 100
ORDER BY portsScanned DESC NULLS LAST`,
		awk: `$1 == "version" { next }
index($5, "10.10.2.68") && index($4, "10.10.") {
	k = $4 "\t" $5 "\t" ($7 == "-" ? "" : $7)
	if ($7 != "-") n[k]++; else if (!(k in n)) n[k] = 0
}
END { for (k in n) printf "%s\t%d\n", k, n[k] }`,
		awkPost: sortDesc(4) + " | " + limitWithTies(4, 100),
		shape: shape{
			cols:    []column{{"srcAddr", str}, {"dstAddr", str}, {"dstPort", num}, {"portsScanned", num}},
			sortCol: 3, desc: true, limit: 100,
		},
	},
	{
		name:       "top talkers by bytes",
		query:      `stats sum(bytes) as bytesTransferred by srcAddr, dstAddr | sort bytesTransferred desc | limit 10`,
		needs:      needQuery,
		vigil:      queryArgs(`stats sum(bytes) as bytesTransferred by srcAddr, dstAddr | sort bytesTransferred desc | limit 10`),
		parseVigil: parseQueryCSV,
		sql: `WITH g AS (
  SELECT srcaddr, dstaddr, sum(bytes)::BIGINT AS bytesTransferred
  FROM {{flows}}
  GROUP BY srcaddr, dstaddr)
SELECT srcaddr, dstaddr, bytesTransferred FROM g
QUALIFY rank() OVER (ORDER BY bytesTransferred DESC NULLS LAST) <= 10
ORDER BY bytesTransferred DESC NULLS LAST`,
		// %.0f: mawk prints large numbers with %.6g otherwise.
		awk: `$1 == "version" { next }
{
	k = ($4 == "-" ? "" : $4) "\t" ($5 == "-" ? "" : $5)
	if ($10 != "-") { s[k] += $10; has[k] = 1 } else if (!(k in s)) s[k] = 0
}
END { for (k in s) if (k in has) printf "%s\t%.0f\n", k, s[k]; else printf "%s\t\n", k }`,
		awkPost: sortDesc(3) + " | " + limitWithTies(3, 10),
		shape: shape{
			cols:    []column{{"srcAddr", str}, {"dstAddr", str}, {"bytesTransferred", num}},
			sortCol: 2, desc: true, limit: 10,
		},
	},
	{
		name:       "rejected flows per port by bin(5m)",
		query:      `filter action = 'REJECT' | stats count(*) as rejectedFlows by bin(5m), dstPort | sort rejectedFlows desc | limit 100`,
		needs:      needQuery,
		vigil:      queryArgs(`filter action = 'REJECT' | stats count(*) as rejectedFlows by bin(5m), dstPort | sort rejectedFlows desc | limit 100`),
		parseVigil: parseQueryCSV,
		sql: `WITH g AS (
  SELECT ("start" // 300) * 300000 AS bin5m, dstport, count(*) AS rejectedFlows
  FROM {{flows}}
  WHERE action = 'REJECT'
  GROUP BY bin5m, dstport)
SELECT bin5m, dstport, rejectedFlows FROM g
QUALIFY rank() OVER (ORDER BY rejectedFlows DESC NULLS LAST) <= 100
ORDER BY rejectedFlows DESC NULLS LAST`,
		awk: `$1 == "version" { next }
$13 == "REJECT" {
	k = sprintf("%.0f", ($11 - $11 % 300) * 1000) "\t" ($7 == "-" ? "" : $7)
	n[k]++
}
END { for (k in n) printf "%s\t%d\n", k, n[k] }`,
		awkPost: sortDesc(3) + " | " + limitWithTies(3, 100),
		shape: shape{
			cols:    []column{{"bin(5m)", timestamp}, {"dstPort", num}, {"rejectedFlows", num}},
			sortCol: 2, desc: true, limit: 100,
		},
	},
	{
		name:       "distinct ports by source",
		query:      `stats count_distinct(dstPort) as distinctPorts by srcAddr | sort distinctPorts desc | limit 100`,
		needs:      needQuery,
		vigil:      queryArgs(`stats count_distinct(dstPort) as distinctPorts by srcAddr | sort distinctPorts desc | limit 100`),
		parseVigil: parseQueryCSV,
		sql: `WITH g AS (
  SELECT srcaddr, count(DISTINCT dstport) AS distinctPorts
  FROM {{flows}}
  GROUP BY srcaddr)
SELECT srcaddr, distinctPorts FROM g
QUALIFY rank() OVER (ORDER BY distinctPorts DESC NULLS LAST) <= 100
ORDER BY distinctPorts DESC NULLS LAST`,
		awk: `$1 == "version" { next }
{
	s = ($4 == "-" ? "" : $4); g[s] = 1
	if ($7 != "-" && !((s, $7) in seen)) { seen[s, $7] = 1; n[s]++ }
}
END { for (s in g) printf "%s\t%d\n", s, n[s] }`,
		awkPost: sortDesc(2) + " | " + limitWithTies(2, 100),
		shape: shape{
			cols:    []column{{"srcAddr", str}, {"distinctPorts", num}},
			sortCol: 1, desc: true, limit: 100, approx: 0.03,
		},
	},
	{
		name:       "newest 100 rejected SSH flows",
		query:      `filter action = 'REJECT' and dstPort = 22 | fields @timestamp, srcAddr, dstAddr, dstPort | sort @timestamp desc | limit 100`,
		needs:      needQuery,
		vigil:      queryArgs(`filter action = 'REJECT' and dstPort = 22 | fields @timestamp, srcAddr, dstAddr, dstPort | sort @timestamp desc | limit 100`),
		parseVigil: parseQueryCSV,
		sql: `SELECT "start" * 1000 AS ts, srcaddr, dstaddr, dstport
FROM {{flows}}
WHERE action = 'REJECT' AND dstport = 22
QUALIFY rank() OVER (ORDER BY "start" DESC NULLS LAST) <= 100
ORDER BY ts DESC NULLS LAST`,
		// $7 == 22 compares numerically when the field looks like a number; "-"
		// compares as a string and is never equal.
		awk: `$1 == "version" { next }
$13 == "REJECT" && $7 == 22 { printf "%.0f\t%s\t%s\t%s\n", $11 * 1000, $4, $5, $7 }`,
		awkPost: sortDesc(1) + " | " + limitWithTies(1, 100),
		shape: shape{
			cols:    []column{{"@timestamp", timestamp}, {"srcAddr", str}, {"dstAddr", str}, {"dstPort", num}},
			sortCol: 0, desc: true, limit: 100,
		},
	},
}

// scanCase runs every built-in detection over the corpus. Its answer is the
// number of findings, which must not be zero: the corpus holds the simulator's
// attack scenarios.
var scanCase = benchCase{
	name:       "scan, every detection",
	needs:      needScan,
	vigil:      func(in []string) []string { return append([]string{"scan", "-o", "jsonl"}, in...) },
	parseVigil: parseFindingsJSONL,
	shape:      shape{cols: []column{{"findings", num}}},
	solo:       true,
	check: func(a answer) error {
		if len(a.rows) != 1 || a.rows[0][0] == "0" {
			return fmt.Errorf("no findings in a corpus of attack scenarios")
		}
		return nil
	},
	relativeTo: "NAT port scan",
}

func init() { cases = append(cases, scanCase) }

// queryArgs is vigil's argument list for a Logs Insights query over the inputs.
// The output is asked for as CSV with a header line, which parseQueryCSV reads
// by column name. (Written before `vigil query` exists: adjust the flags here
// if it spells them differently.)
func queryArgs(q string) func([]string) []string {
	return func(in []string) []string {
		return append([]string{"query", "--output", "csv", q}, in...)
	}
}
