// Package query is the front end of vigil's CloudWatch Logs Insights query
// language: lexer, parser, AST, printer, errors and the function table.
// The reference for the language is shared/reference/logs-insights.md; a
// query copied from the AWS console, the AWS docs or a blog must parse
// unchanged.
//
// # The model
//
// A query goes through these phases; each one only reads the previous one's
// output:
//
//  1. Tokens. A hand-written lexer (lexer.go) turns the text into tokens,
//     each with a byte Span. Comments (# to the end of the line) and white
//     space vanish here. A "/" is division unless the parser is at a place
//     that takes a regex (after like, not like, =~ and in parse), where it
//     asks the lexer to read /…/ instead. Typographic quotes ‘ ’ “ ” ′ ″
//     pasted from web pages open and close strings like ASCII quotes and
//     produce one Warning per string literal, at its opening quote.
//  2. AST with spans. A recursive-descent parser (parser.go, plus one
//     cmd_<name>.go file per command holding the command's node, parse
//     function and printer) builds a *Query: a list of Command values over
//     Expr trees. Every node has a Span covering exactly its text, and a
//     String method that prints canonical text which parses back to the same
//     AST (printer.go). Parse checks syntax and the pipeline rules the
//     reference states (at most two stats, sort and limit only after the
//     second one, only limit after dedup, Tier 3 commands refused by name).
//     It stops at the first error, a *Error with a position, a message and
//     what was expected there.
//  3. Checker (check.go, Check). Resolves field names against the record
//     catalogues of the kinds the query reads (given, or inferred from the
//     names: srcAddr reads flows), function names and arities against the
//     table in functions.go (LookupFunc), aggregates against stats, time
//     periods against bin/datefloor/dateceil, and the pipeline rule that
//     after stats only its columns exist. It assigns every computed field a
//     slot (Scope), decides the output columns, and reports warnings (the
//     pitfalls of §9 of the reference) as well as errors. Its result, a
//     *Checked, is what the later phases read.
//  4. Evaluator (eval*.go, fn_*.go). Compiles expressions into closures over
//     a Row (a record plus slots), with names resolved once per record kind.
//     CompileFilter and ParseFilter give detection and suppression rules the
//     same filters on single records.
//  5. Plan and execution (query/plan, query/exec). The plan cuts the
//     pipeline into a per-record head, a barrier (stats, an ordering, or
//     limit any) and an in-memory tail; the executor runs it in parallel
//     over ingest's workers with memory bounded by groups or rows kept.
//
// Precedence, loosest first: or; and; not; comparisons (= != < <= > >= like
// not like =~ in not in, which do not chain); + -; * / %; ^; unary minus;
// calls, [index] and .member. All binary operators are left-associative,
// ^ included, and unary minus binds tighter than ^ (-2^2 is 4), as in the
// reference grammar.
//
// Keywords, command names and function names are case-insensitive; field
// names are case-sensitive. The words and, or, not, like, in, as, by, asc
// and desc are reserved: a field with one of those names is written in
// backquotes.
//
// Errors render for a terminal as "line:col: message" followed by the query
// line and a caret (Error.Render) and for the API as JSON (Error.MarshalJSON).
// Columns count characters, not bytes.
package query
