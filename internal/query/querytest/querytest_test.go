package querytest

import (
	"context"
	"flag"
	"os"
	"path/filepath"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the expectations of testdata/qtest/*.qtest from the current results")

// TestFiles runs every case of every ../testdata/qtest/*.qtest file.
func TestFiles(t *testing.T) {
	files, err := filepath.Glob("../testdata/qtest/*.qtest")
	if err != nil || len(files) == 0 {
		t.Fatalf("no .qtest files (%v)", err)
	}
	total := 0
	for _, file := range files {
		cases, err := ParseFile(file)
		if err != nil {
			t.Fatal(err)
		}
		outcomes := make([]*Outcome, len(cases))
		for i, c := range cases {
			total++
			outcomes[i] = c.Run(context.Background())
			if *update {
				continue
			}
			t.Run(filepath.Base(file)+"/"+c.Name, func(t *testing.T) {
				if diff := c.Check(outcomes[i]); diff != "" {
					t.Errorf("%s:%d: %s\nquery: %s\n%s", file, c.Line, c.Name, c.Query, diff)
				}
			})
		}
		if *update {
			text, err := Rewrite(file, cases, outcomes)
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(file, []byte(text), 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	t.Logf("%d cases", total)
}

// TestProjection runs every case again decoding every field of flow records:
// both ways must give the expected outcome, so a projection that left out a
// field a query reads (or a full decode that differs from it) fails here or
// in TestFiles.
func TestProjection(t *testing.T) {
	files, err := filepath.Glob("../testdata/qtest/*.qtest")
	if err != nil || len(files) == 0 {
		t.Fatalf("no .qtest files (%v)", err)
	}
	for _, file := range files {
		cases, err := ParseFile(file)
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range cases {
			c.NoProjection = true
			if diff := c.Check(c.Run(context.Background())); diff != "" {
				t.Errorf("%s:%d: %s, every field decoded\nquery: %s\n%s", file, c.Line, c.Name, c.Query, diff)
			}
		}
	}
}
