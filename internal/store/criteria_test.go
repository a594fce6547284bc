package store

import (
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"
)

// Criteria read from GuardDuty's JSON in the API's spelling and the CLI's.
func TestCriteriaJSON(t *testing.T) {
	for _, src := range []string{
		`{"criterion": {"severity": {"gte": 7}, "type": {"eq": ["Recon:EC2/Portscan"]}, "service.archived": {"equals": ["false"]}}}`,
		`{"Criterion": {"severity": {"Gte": 7}, "type": {"Eq": ["Recon:EC2/Portscan"]}, "service.archived": {"Equals": ["false"]}}}`,
	} {
		var c Criteria
		if err := json.Unmarshal([]byte(src), &c); err != nil {
			t.Fatal(err)
		}
		terms, err := c.Terms()
		if err != nil {
			t.Fatal(err)
		}
		want := []Term{
			{Attribute: "service.archived", Kind: KindBool, Op: OpEq, Values: []any{false}},
			{Attribute: "severity", Kind: KindNumber, Op: OpGte, Values: []any{7.0}},
			{Attribute: "type", Kind: KindString, Op: OpEq, Values: []any{"Recon:EC2/Portscan"}},
		}
		if !reflect.DeepEqual(terms, want) {
			t.Errorf("%s:\n got %+v\nwant %+v", src, terms, want)
		}
	}
}

func TestTerms(t *testing.T) {
	gt, lt := int64(5), int64(9)
	c := Criteria{Criterion: map[string]Condition{
		"severity":         {Gt: &gt, Lt: &lt, Neq: []string{"8", "6.5", "8"}},
		"updatedAt":        {Eq: []string{" 1767261600000 "}},
		"service.count":    {Eq: []string{"3"}},
		"service.archived": {Neq: []string{"TRUE"}},
		"type":             {Eq: []string{"b", "a\x00", "b"}, Equals: []string{"c"}},
	}}
	terms, err := c.Terms()
	if err != nil {
		t.Fatal(err)
	}
	want := []Term{
		{Attribute: "service.archived", Kind: KindBool, Op: OpNeq, Values: []any{true}},
		{Attribute: "service.count", Kind: KindInt, Op: OpEq, Values: []any{int64(3)}},
		{Attribute: "severity", Kind: KindNumber, Op: OpNeq, Values: []any{6.5, 8.0}},
		{Attribute: "severity", Kind: KindNumber, Op: OpGt, Values: []any{5.0}},
		{Attribute: "severity", Kind: KindNumber, Op: OpLt, Values: []any{9.0}},
		{Attribute: "type", Kind: KindString, Op: OpEq, Values: []any{"a\uFFFD", "b"}},
		{Attribute: "type", Kind: KindString, Op: OpEq, Values: []any{"c"}},
		{Attribute: "updatedAt", Kind: KindTime, Op: OpEq, Values: []any{int64(1767261600000)}},
	}
	if !reflect.DeepEqual(terms, want) {
		t.Errorf("got  %+v\nwant %+v", terms, want)
	}
	if terms, err := (Criteria{}).Terms(); err != nil || len(terms) != 0 {
		t.Errorf("empty criteria: %v %v", terms, err)
	}
}

func TestTermsErrors(t *testing.T) {
	one := int64(1)
	for _, tc := range []struct {
		c    Criteria
		want string
	}{
		{Criteria{Criterion: map[string]Condition{"resource.tags": {Eq: []string{"x"}}}}, `attribute "resource.tags" is not supported`},
		{Criteria{Criterion: map[string]Condition{"type": {Gt: &one}}}, "type: Gt needs a number or time attribute"},
		{Criteria{Criterion: map[string]Condition{"service.archived": {LessThan: &one}}}, "service.archived: LessThan needs"},
		{Criteria{Criterion: map[string]Condition{"service.archived": {Eq: []string{"1"}}}}, `Eq value "1": want true or false`},
		{Criteria{Criterion: map[string]Condition{"severity": {Eq: []string{"Inf"}}}}, "want a number"},
		{Criteria{Criterion: map[string]Condition{"createdAt": {Neq: []string{"yesterday"}}}}, "want epoch milliseconds"},
		{Criteria{Criterion: map[string]Condition{"service.count": {NotEquals: []string{"2.5"}}}}, "want an integer"},
		{Criteria{Criterion: map[string]Condition{"type": {}}}, "type: no condition"},
		{Criteria{Criterion: map[string]Condition{"type": {Eq: []string{}}}}, "type: Eq has no values"},
	} {
		_, err := tc.c.Terms()
		if !errors.Is(err, ErrInvalidCriteria) || !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%+v: %v, want ErrInvalidCriteria saying %q", tc.c.Criterion, err, tc.want)
		}
	}
}

func TestText(t *testing.T) {
	for in, want := range map[string]string{
		"plain":            "plain",
		"ünï 🦀":            "ünï 🦀",
		"a\x00b":           "a\uFFFDb",
		"bad \xff\xfe end": "bad \uFFFD\uFFFD end", // one per byte, as encoding/json
		"\xc3":             "\uFFFD",
	} {
		if got := Text(in); got != want {
			t.Errorf("Text(%q) = %q, want %q", in, got, want)
		}
		// A string and its JSON round trip map alike.
		b, _ := json.Marshal(in)
		var back string
		_ = json.Unmarshal(b, &back)
		if Text(back) != Text(in) {
			t.Errorf("Text(%q) = %q but Text of its JSON round trip = %q", in, Text(in), Text(back))
		}
	}
	if n := testing.AllocsPerRun(100, func() { _ = Text("clean string") }); n != 0 {
		t.Errorf("Text of a clean string allocates %v times", n)
	}
}

func TestSortAndLimit(t *testing.T) {
	if s, err := (Sort{}).Check(); err != nil || s != DefaultSort {
		t.Errorf("zero sort: %+v %v", s, err)
	}
	if s, err := (Sort{Attribute: "severity", Order: "asc"}).Check(); err != nil || s.Order != Asc {
		t.Errorf("asc: %+v %v", s, err)
	}
	for _, bad := range []Sort{{Attribute: "title"}, {Attribute: "type", Order: "sideways"}} {
		if _, err := bad.Check(); !errors.Is(err, ErrInvalid) {
			t.Errorf("%+v: %v", bad, err)
		}
	}
	for in, want := range map[int]int{0: DefaultLimit, 1: 1, MaxLimit: MaxLimit} {
		if got, err := CheckLimit(in); err != nil || got != want {
			t.Errorf("CheckLimit(%d) = %d, %v", in, got, err)
		}
	}
	for _, bad := range []int{-1, MaxLimit + 1} {
		if _, err := CheckLimit(bad); !errors.Is(err, ErrInvalid) {
			t.Errorf("CheckLimit(%d): %v", bad, err)
		}
	}
}
