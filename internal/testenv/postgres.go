package testenv

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// PostgresInstall is the command that installs the PostgreSQL server binaries
// where Postgres finds them (Debian and Ubuntu; scripts/test runs it on CI).
const PostgresInstall = "apt-get install -y postgresql"

// PostgresOptions configure StartPostgres.
type PostgresOptions struct {
	// Fsync keeps PostgreSQL's fsync, full-page writes and synchronous commit
	// on, for durability tests and honest write benchmarks. Off by default: a
	// throwaway cluster needs no durability, and tests run faster without it.
	Fsync bool
}

// Postgres starts a throwaway PostgreSQL server for the test — initdb'd into a
// temporary directory, listening on 127.0.0.1 on a free port, fsync off — and
// returns the DSN of its "postgres" database (user vigil, trust authentication).
// The server is stopped and its files removed when the test ends. Give each test
// a database of its own with PostgresDatabase: creating one takes tens of
// milliseconds, starting a server about a second.
//
// The binaries are Debian's (/usr/lib/postgresql/<version>/bin, the newest
// version installed), else initdb and postgres on PATH, else the directory in
// VIGIL_PG_BIN. When they are missing the test is skipped with the install
// command, or failed under CI. PostgreSQL refuses to run as root, so when the
// test runs as root the server runs as the user nobody (or vigiltest, created
// with useradd when there is no nobody).
func Postgres(t testing.TB) string {
	t.Helper()
	return StartPostgres(t, PostgresOptions{})
}

// StartPostgres is Postgres with options.
func StartPostgres(t testing.TB, opts PostgresOptions) string {
	t.Helper()
	bin := postgresBinDir(t)
	cred := postgresCredential(t)

	started := time.Now()
	home := t.TempDir()
	if cred != nil {
		makeReachable(t, home, cred)
	}
	data := filepath.Join(home, "data")
	initdb := exec.Command(filepath.Join(bin, "initdb"), "-D", data, "-U", "vigil", "--auth=trust",
		"--no-sync", "-E", "UTF8", "--locale=C")
	initdb.Env = postgresEnv(home)
	initdb.SysProcAttr = &syscall.SysProcAttr{Credential: cred}
	if out, err := initdb.CombinedOutput(); err != nil {
		t.Fatalf("initdb: %v\n%s", err, out)
	}
	initialised := time.Now()

	// The free port is found by binding and releasing it, so another process can
	// take it first; try a few before giving up.
	var dsn string
	var err error
	for range 3 {
		if dsn, err = startPostgres(t, bin, home, data, cred, opts); err == nil {
			break
		}
	}
	if err != nil {
		t.Fatalf("start PostgreSQL: %v", err)
	}
	t.Logf("PostgreSQL ready in %s (initdb %s)", time.Since(started).Round(time.Millisecond), initialised.Sub(started).Round(time.Millisecond))
	return dsn
}

// startPostgres runs the server on a free port and waits until it accepts
// connections.
func startPostgres(t testing.TB, bin, home, data string, cred *syscall.Credential, opts PostgresOptions) (string, error) {
	t.Helper()
	port, err := freePort()
	if err != nil {
		return "", err
	}
	logPath := filepath.Join(home, "postgres-"+strconv.Itoa(port)+".log")
	logFile, err := os.Create(logPath)
	if err != nil {
		return "", err
	}
	defer logFile.Close() // the child has its own copy

	args := []string{"-D", data, "-k", home, "-h", "127.0.0.1", "-p", strconv.Itoa(port),
		"-c", "max_connections=200", "-c", "log_min_messages=warning"}
	if !opts.Fsync {
		args = append(args, "-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off")
	}
	cmd := exec.Command(filepath.Join(bin, "postgres"), args...)
	cmd.Env = postgresEnv(home)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	// Pdeathsig stops the server if the test binary dies without cleaning up.
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: cred, Pdeathsig: syscall.SIGQUIT}
	if err := cmd.Start(); err != nil {
		return "", fmt.Errorf("run %s: %w", cmd.Path, err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	stop := func() {
		// SIGQUIT is PostgreSQL's immediate shutdown: nothing to keep.
		_ = cmd.Process.Signal(syscall.SIGQUIT)
		select {
		case <-exited:
		case <-time.After(10 * time.Second):
			_ = cmd.Process.Kill()
			<-exited
		}
	}

	dsn := "postgres://vigil@127.0.0.1:" + strconv.Itoa(port) + "/postgres?sslmode=disable"
	if err := waitPostgres(dsn, exited, 30*time.Second); err != nil {
		stop()
		return "", fmt.Errorf("%w\n%s", err, tail(logPath))
	}
	t.Cleanup(func() {
		stop()
		if t.Failed() {
			t.Logf("PostgreSQL log:\n%s", tail(logPath))
		}
	})
	return dsn, nil
}

// waitPostgres connects until the server answers, the process exits, or the
// timeout passes.
func waitPostgres(dsn string, exited <-chan error, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		select {
		case err := <-exited:
			return fmt.Errorf("PostgreSQL exited before it was ready: %v", err)
		default:
		}
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		conn, err := pgx.Connect(ctx, dsn)
		if err == nil {
			err = conn.Ping(ctx)
			conn.Close(ctx)
		}
		cancel()
		if err == nil {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("PostgreSQL not ready after %s: %v", timeout, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

var databaseSeq atomic.Int64

// PostgresDatabase creates an empty database on the server of dsn (from
// Postgres) and returns its DSN. The database goes when the server does.
func PostgresDatabase(t testing.TB, dsn string) string {
	t.Helper()
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatalf("PostgresDatabase: %v", err)
	}
	name := "vigil_test_" + strconv.FormatInt(databaseSeq.Add(1), 10)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatalf("PostgresDatabase: %v", err)
	}
	defer conn.Close(ctx)
	// template0: a pristine copy, and no wait for other sessions on template1.
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize()+" TEMPLATE template0"); err != nil {
		t.Fatalf("PostgresDatabase: %v", err)
	}
	u.Path = "/" + name
	return u.String()
}

// postgresBinDir returns the directory holding initdb and postgres, or skips the
// test (fails it under CI).
func postgresBinDir(t testing.TB) string {
	t.Helper()
	has := func(dir string) bool {
		for _, name := range []string{"initdb", "postgres"} {
			if info, err := os.Stat(filepath.Join(dir, name)); err != nil || info.IsDir() {
				return false
			}
		}
		return true
	}
	if dir := os.Getenv("VIGIL_PG_BIN"); dir != "" {
		if !has(dir) {
			t.Fatalf("VIGIL_PG_BIN=%s: no initdb and postgres there", dir)
		}
		return dir
	}
	var tried []string
	// Debian: /usr/lib/postgresql/<major>/bin, newest major first.
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	slices.SortFunc(dirs, func(a, b string) int { return pgMajor(b) - pgMajor(a) })
	for _, dir := range dirs {
		if has(dir) {
			return dir
		}
	}
	tried = append(tried, "/usr/lib/postgresql/*/bin")
	// Elsewhere: initdb on PATH, possibly a symbolic link into the real directory.
	if p, err := exec.LookPath("initdb"); err == nil {
		for _, dir := range []string{filepath.Dir(p), resolvedDir(p)} {
			if dir != "" && has(dir) {
				return dir
			}
		}
		tried = append(tried, filepath.Dir(p))
	} else {
		tried = append(tried, "initdb on PATH")
	}
	msg := "PostgreSQL server binaries (initdb, postgres) are not installed (looked in " + strings.Join(tried, ", ") +
		"; or set VIGIL_PG_BIN); ./scripts/test installs them, or run:\n  " + PostgresInstall
	if os.Getenv("CI") != "" {
		t.Fatal(msg)
	}
	t.Skip(msg)
	return ""
}

func pgMajor(binDir string) int {
	n, _ := strconv.Atoi(filepath.Base(filepath.Dir(binDir)))
	return n
}

func resolvedDir(p string) string {
	r, err := filepath.EvalSymlinks(p)
	if err != nil {
		return ""
	}
	return filepath.Dir(r)
}

// postgresCredential returns the unprivileged user the server runs as when the
// test runs as root (initdb and postgres refuse root), or nil otherwise.
func postgresCredential(t testing.TB) *syscall.Credential {
	t.Helper()
	if os.Geteuid() != 0 {
		return nil
	}
	u, err := user.Lookup("nobody")
	if err != nil {
		if u, err = user.Lookup("vigiltest"); err != nil {
			out, err := exec.Command("useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", "vigiltest").CombinedOutput()
			if err != nil {
				t.Fatalf("PostgreSQL cannot run as root, and there is no user nobody; useradd vigiltest: %v\n%s", err, out)
			}
			if u, err = user.Lookup("vigiltest"); err != nil {
				t.Fatalf("user vigiltest: %v", err)
			}
		}
	}
	uid, err1 := strconv.ParseUint(u.Uid, 10, 32)
	gid, err2 := strconv.ParseUint(u.Gid, 10, 32)
	if err1 != nil || err2 != nil {
		t.Fatalf("user %s: uid %q gid %q are not numbers", u.Username, u.Uid, u.Gid)
	}
	return &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid), NoSetGroups: true}
}

// makeReachable gives the server's user the test directory dir: it owns dir, and
// can pass through its parents. The parents that the testing package created
// (below os.TempDir, mode 0700) are opened to others for passage only (0711);
// the ones above must already be.
func makeReachable(t testing.TB, dir string, cred *syscall.Credential) {
	t.Helper()
	if err := os.Chown(dir, int(cred.Uid), int(cred.Gid)); err != nil {
		t.Fatalf("chown %s: %v", dir, err)
	}
	tmp := filepath.Clean(os.TempDir())
	for p := filepath.Dir(dir); ; p = filepath.Dir(p) {
		info, err := os.Stat(p)
		if err != nil {
			t.Fatalf("stat %s: %v", p, err)
		}
		if info.Mode().Perm()&0o001 == 0 {
			if !strings.HasPrefix(p, tmp+string(filepath.Separator)) {
				t.Fatalf("PostgreSQL runs as uid %d, which cannot pass through %s (mode %s); set TMPDIR to a directory it can reach",
					cred.Uid, p, info.Mode().Perm())
			}
			if err := os.Chmod(p, info.Mode().Perm()|0o011); err != nil {
				t.Fatalf("chmod %s: %v", p, err)
			}
		}
		if p == filepath.Dir(p) {
			return
		}
	}
}

// postgresEnv is a clean environment: no PG* or locale settings of the developer
// leak in.
func postgresEnv(home string) []string {
	return []string{"PATH=" + os.Getenv("PATH"), "HOME=" + home, "LANG=C", "LC_ALL=C", "TZ=UTC"}
}
