package testenv

import (
	"context"
	"net/url"
	"os"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
)

// scripts/test must install what Postgres looks for.
func TestPostgresInstalledByScript(t *testing.T) {
	script, err := os.ReadFile("../../scripts/test")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(script), "apt-get install -y -qq postgresql") {
		t.Error("scripts/test does not install postgresql")
	}
}

func TestPostgres(t *testing.T) {
	dsn := Postgres(t)
	u, err := url.Parse(dsn)
	if err != nil || u.Hostname() != "127.0.0.1" {
		t.Fatalf("DSN %q is not on the loopback address", dsn)
	}
	ctx := context.Background()

	// Two databases of one server are separate.
	a, b := PostgresDatabase(t, dsn), PostgresDatabase(t, dsn)
	if a == b {
		t.Fatalf("two databases with one DSN %s", a)
	}
	ca, err := pgx.Connect(ctx, a)
	if err != nil {
		t.Fatal(err)
	}
	defer ca.Close(ctx)
	if _, err := ca.Exec(ctx, "CREATE TABLE t (x int); INSERT INTO t VALUES (42)"); err != nil {
		t.Fatal(err)
	}
	var x int
	if err := ca.QueryRow(ctx, "SELECT x FROM t").Scan(&x); err != nil || x != 42 {
		t.Fatalf("got %d, %v", x, err)
	}
	cb, err := pgx.Connect(ctx, b)
	if err != nil {
		t.Fatal(err)
	}
	defer cb.Close(ctx)
	var n int
	if err := cb.QueryRow(ctx, "SELECT count(*) FROM pg_tables WHERE tablename = 't'").Scan(&n); err != nil || n != 0 {
		t.Fatalf("database b sees a's table: %d, %v", n, err)
	}

	// The throwaway settings are in force, and the server does not run as root.
	var fsync, user string
	if err := ca.QueryRow(ctx, "SHOW fsync").Scan(&fsync); err != nil || fsync != "off" {
		t.Errorf("fsync = %q, %v; want off", fsync, err)
	}
	if err := ca.QueryRow(ctx, "SELECT current_user").Scan(&user); err != nil || user != "vigil" {
		t.Errorf("current_user = %q, %v; want vigil", user, err)
	}
}
