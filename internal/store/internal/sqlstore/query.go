package sqlstore

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/vigil-dev/vigil/internal/finding"
	"github.com/vigil-dev/vigil/internal/store"
)

// Args collects query parameters and names them $1, $2, …
type Args struct{ List []any }

// Add appends v and returns its placeholder.
func (a *Args) Add(v any) string {
	a.List = append(a.List, v)
	return "$" + strconv.Itoa(len(a.List))
}

// Where returns the SQL condition of c in dialect d ("1 = 1" when c is empty)
// with its values added to args, and the checked terms.
func Where(d Dialect, c store.Criteria, args *Args) (string, []store.Term, error) {
	terms, err := c.Terms()
	if err != nil {
		return "", nil, err
	}
	where, err := whereTerms(d, terms, args)
	return where, terms, err
}

func whereTerms(d Dialect, terms []store.Term, args *Args) (string, error) {
	if len(terms) == 0 {
		return "1 = 1", nil
	}
	var b strings.Builder
	for i, t := range terms {
		if i > 0 {
			b.WriteString(" AND ")
		}
		col, ok := AttrColumn[t.Attribute]
		if !ok { // store.Attributes and AttrColumn disagree: a bug, caught by a test
			return "", fmt.Errorf("attribute %q has no column", t.Attribute)
		}
		if t.Op == store.OpMatch || t.Op == store.OpNotMatch {
			d.patternTerm(&b, col, t, args)
			continue
		}
		b.WriteString(col)
		switch t.Op {
		case store.OpEq, store.OpNeq:
			if len(t.Values) == 1 {
				if t.Op == store.OpEq {
					b.WriteString(" = ")
				} else {
					b.WriteString(" <> ")
				}
				b.WriteString(args.Add(t.Values[0]))
				continue
			}
			if t.Op == store.OpEq {
				b.WriteString(" IN (")
			} else {
				b.WriteString(" NOT IN (")
			}
			for j, v := range t.Values {
				if j > 0 {
					b.WriteString(", ")
				}
				b.WriteString(args.Add(v))
			}
			b.WriteByte(')')
		case store.OpGt:
			b.WriteString(" > " + args.Add(t.Values[0]))
		case store.OpGte:
			b.WriteString(" >= " + args.Add(t.Values[0]))
		case store.OpLt:
			b.WriteString(" < " + args.Add(t.Values[0]))
		case store.OpLte:
			b.WriteString(" <= " + args.Add(t.Values[0]))
		}
	}
	return b.String(), nil
}

// orderedBy are the columns whose index continues with (updated_at, id): an
// equality on one of them reads its matches newest first from the index.
var orderedBy = map[string]bool{"type": true, "instance_id": true, "remote_ipv4": true}

// maxUnion bounds the Eq values a List splits into one index read each.
const maxUnion = 50

// ListQuery is a List translated to SQL.
type ListQuery struct {
	SQL   string
	Args  []any
	Limit int // rows wanted; SQL asks for Limit+1 to learn whether a page follows

	sort  store.Sort
	kind  store.Kind
	qhash [8]byte
}

// NewListQuery translates a List into dialect d. The query selects (id, sort
// column).
func NewListQuery(d Dialect, tokens *Tokens, c store.Criteria, s store.Sort, token store.PageToken, limit int) (*ListQuery, error) {
	limit, err := store.CheckLimit(limit)
	if err != nil {
		return nil, err
	}
	if s, err = s.Check(); err != nil {
		return nil, err
	}
	terms, err := c.Terms()
	if err != nil {
		return nil, err
	}
	q := &ListQuery{Limit: limit, sort: s, kind: store.Attributes[s.Attribute], qhash: queryHash(terms, s)}
	col := AttrColumn[s.Attribute]
	dir, cmp := "DESC", "<"
	if s.Order == store.Asc {
		dir, cmp = "ASC", ">"
	}
	var args Args
	var after string // the keyset condition of the page token
	if token != "" {
		v, id, err := tokens.Verify(token, q.qhash, q.kind)
		if err != nil {
			return nil, err
		}
		if col == "id" {
			after = "id " + cmp + " " + args.Add(id)
		} else {
			after = "(" + col + ", id) " + cmp + " (" + args.Add(v) + ", " + args.Add(id) + ")"
		}
	}
	order := col + " " + dir + ", id " + dir
	if col == "id" {
		order = "id " + dir
	}
	lim := args.Add(int64(limit + 1))
	sel := "SELECT id, " + col + " FROM findings WHERE "

	// An Eq of several values on a column indexed with (updated_at, id) would
	// make the database gather every match and sort them; instead read the first
	// page of each value from the index and merge those few rows.
	split := -1
	if col == "updated_at" {
		for i, t := range terms {
			if t.Op == store.OpEq && len(t.Values) > 1 && len(t.Values) <= maxUnion && orderedBy[AttrColumn[t.Attribute]] {
				split = i
				break
			}
		}
	}
	if split < 0 {
		where, err := whereTerms(d, terms, &args)
		if err != nil {
			return nil, err
		}
		if after != "" {
			where += " AND " + after
		}
		q.SQL = sel + where + " ORDER BY " + order + " LIMIT " + lim
		q.Args = args.List
		return q, nil
	}
	t := terms[split]
	rest, err := whereTerms(d, slices.Delete(slices.Clone(terms), split, split+1), &args)
	if err != nil {
		return nil, err
	}
	if after != "" {
		rest += " AND " + after
	}
	var b strings.Builder
	b.WriteString("SELECT id, updated_at FROM (")
	for i, v := range t.Values {
		if i > 0 {
			b.WriteString(" UNION ALL ")
		}
		fmt.Fprintf(&b, "SELECT * FROM (%s%s = %s AND %s ORDER BY %s LIMIT %s) AS v%d",
			sel, AttrColumn[t.Attribute], args.Add(v), rest, order, lim, i)
	}
	b.WriteString(") AS m ORDER BY " + order + " LIMIT " + lim)
	q.SQL = b.String()
	q.Args = args.List
	return q, nil
}

// Page builds the page from the rows read: ids and the sort column's values, up
// to Limit+1 of them.
func (q *ListQuery) Page(tokens *Tokens, ids []string, vals []any) (store.Page, error) {
	if len(ids) <= q.Limit {
		return store.Page{IDs: ids}, nil
	}
	ids = ids[:q.Limit]
	last := len(ids) - 1
	tok, err := tokens.Sign(q.qhash, q.kind, vals[last], ids[last])
	if err != nil {
		return store.Page{}, err
	}
	return store.Page{IDs: ids, Next: tok}, nil
}

// StatsQuery is a Statistics translated to SQL, with the scanning of its rows.
type StatsQuery struct {
	SQL  string
	Args []any
	// Scan reads one row into a group.
	Scan func(Scanner) (store.Group, error)
}

// Scanner is a result row: *sql.Rows and pgx.Rows both are.
type Scanner interface{ Scan(dest ...any) error }

const dayMillis = int64(24 * time.Hour / time.Millisecond)

// NewStatsQuery translates a Statistics query into dialect d.
func NewStatsQuery(d Dialect, q store.StatisticsQuery) (*StatsQuery, error) {
	var args Args
	where, _, err := Where(d, q.Criteria, &args)
	if err != nil {
		return nil, err
	}
	if q.Limit < 0 {
		return nil, fmt.Errorf("%w: statistics limit %d", store.ErrInvalid, q.Limit)
	}
	dir := "DESC"
	switch strings.ToUpper(string(q.Order)) {
	case "", "DESC":
	case "ASC":
		dir = "ASC"
	default:
		return nil, fmt.Errorf("%w: statistics order %q (want ASC or DESC)", store.ErrInvalid, q.Order)
	}
	// The grouped columns are wrapped in expressions ("severity + 0") that no
	// index matches: otherwise SQLite walks an index in group order and looks
	// each row up for the criteria, a million lookups, when reading the rows the
	// criteria select (through their index) and grouping those is far cheaper.
	var sel, group, order string
	st := &StatsQuery{}
	switch q.GroupBy {
	case store.GroupBySeverity:
		sel, group, order = "severity + 0, count(*), max(updated_at)", "1", "2 "+dir+", 1 ASC"
		st.Scan = func(r Scanner) (store.Group, error) {
			var g store.Group
			var sev float64
			err := r.Scan(&sev, &g.Total, &g.LastGeneratedAt)
			g.Severity = finding.Severity(sev)
			g.Key = strconv.FormatFloat(sev, 'g', -1, 64)
			return g, err
		}
	case store.GroupByType, store.GroupByAccount:
		col := "type"
		if q.GroupBy == store.GroupByAccount {
			col = "account_id"
		}
		sel, group, order = col+" || '', count(*), max(updated_at)", "1", "2 "+dir+", 1 ASC"
		st.Scan = func(r Scanner) (store.Group, error) {
			var g store.Group
			err := r.Scan(&g.Key, &g.Total, &g.LastGeneratedAt)
			if q.GroupBy == store.GroupByAccount {
				g.AccountID = g.Key
			}
			return g, err
		}
	case store.GroupByDate:
		day := "updated_at / " + strconv.FormatInt(dayMillis, 10)
		sel, group, order = day+", count(*), max(updated_at), max(severity)", "1", "2 "+dir+", 1 ASC"
		st.Scan = func(r Scanner) (store.Group, error) {
			var g store.Group
			var d int64
			var sev float64
			err := r.Scan(&d, &g.Total, &g.LastGeneratedAt, &sev)
			g.Key = time.UnixMilli(d * dayMillis).UTC().Format(time.DateOnly)
			g.Severity = finding.Severity(sev)
			return g, err
		}
	case store.GroupByResource:
		sel = "account_id || '', resource_type || '', resource_id || '', count(*), max(updated_at)"
		group, order = "1, 2, 3", "4 "+dir+", 3 ASC, 1 ASC, 2 ASC"
		st.Scan = func(r Scanner) (store.Group, error) {
			var g store.Group
			var rt string
			err := r.Scan(&g.AccountID, &rt, &g.Key, &g.Total, &g.LastGeneratedAt)
			g.ResourceType = finding.ResourceType(rt)
			return g, err
		}
	default:
		return nil, fmt.Errorf("%w: statistics group %q (want SEVERITY, FINDING_TYPE, ACCOUNT, DATE or RESOURCE)", store.ErrInvalid, q.GroupBy)
	}
	st.SQL = "SELECT " + sel + " FROM findings WHERE " + where + " GROUP BY " + group + " ORDER BY " + order
	if q.Limit > 0 {
		st.SQL += " LIMIT " + args.Add(int64(q.Limit))
	}
	st.Args = args.List
	return st, nil
}

// DeleteChunk is how many findings one retention transaction deletes.
const DeleteChunk = 5000

// DeleteOlderSQL deletes up to DeleteChunk findings last updated before $1.
var DeleteOlderSQL = "DELETE FROM findings WHERE id IN (SELECT id FROM findings WHERE updated_at < $1 LIMIT " +
	strconv.Itoa(DeleteChunk) + ")"

// InList returns "$k, $k+1, …" for ids added to args, each passed through
// store.Text.
func InList(args *Args, ids []string) string {
	var b strings.Builder
	for i, id := range ids {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(args.Add(store.Text(id)))
	}
	return b.String()
}

// Chunks splits ids into slices of at most n.
func Chunks(ids []string, n int) [][]string {
	var out [][]string
	for len(ids) > n {
		out = append(out, ids[:n])
		ids = ids[n:]
	}
	if len(ids) > 0 {
		out = append(out, ids)
	}
	return out
}
