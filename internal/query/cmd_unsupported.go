package query

// unsupportedCommands are the commands of the language that vigil recognises
// but does not run (Tier 3 of the reference, plus SOURCE, filterIndex and
// unnest, which vigil does not offer yet, and the reserved words search and
// order). A query using one fails with `command "pattern" is not supported
// by vigil` instead of a bare syntax error. Keys are lower-case.
var unsupportedCommands = map[string]bool{
	// Pattern analysis and comparison.
	"pattern": true, "diff": true, "anomaly": true, "logcompare": true,
	// Data protection.
	"unmask": true,
	// Enrichment, joins and data-set selection.
	"lookup": true, "cidrlookup": true, "join": true, "source": true,
	"filterindex": true, "unnest": true, "json": true,
	// The 2025–2026 long tail.
	"addtotals": true, "autoregress": true, "filldown": true, "fillmissing": true,
	"outlier": true, "accum": true, "appendcols": true, "sessionize": true,
	"countfrequent": true, "relevantfields": true, "expand": true,
	// Reserved by AWS's parser with no documented meaning.
	"search": true, "order": true,
}
