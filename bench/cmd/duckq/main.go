// Command duckq runs one SQL statement on an in-memory DuckDB database and
// prints the rows tab-separated, NULL as an empty field. The benchmark harness
// measures it as a separate process, like vigil, so that its wall time and peak
// RSS include starting DuckDB and reading the input files.
//
//	duckq -sql "SELECT count(*) FROM read_csv('flows.log', delim=' ', header=true)"
//	duckq -version
package main

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"os"
	"strings"

	"github.com/vigil-dev/vigil/bench/internal/duck"
)

func main() {
	query := flag.String("sql", "", "the SQL statement to run")
	version := flag.Bool("version", false, "print the DuckDB version and exit")
	flag.Parse()
	ctx := context.Background()
	if *version {
		v, err := duck.Version(ctx)
		if err != nil {
			fail(err)
		}
		fmt.Println(v)
		return
	}
	if *query == "" || flag.NArg() > 0 {
		fmt.Fprintln(os.Stderr, "usage: duckq -sql STATEMENT | duckq -version")
		os.Exit(2)
	}
	rows, err := duck.Query(ctx, *query)
	if err != nil {
		fail(err)
	}
	w := bufio.NewWriter(os.Stdout)
	for _, r := range rows {
		w.WriteString(strings.Join(r, "\t"))
		w.WriteByte('\n')
	}
	if err := w.Flush(); err != nil {
		fail(err)
	}
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "duckq:", err)
	os.Exit(1)
}
