package nftables

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/vigil-dev/vigil/internal/store"
)

// The test network: two namespaces joined by a veth pair. "attacker" is
// 198.18.7.1 and fd00:7::1; "host" (where the nftables table lives) is
// 198.18.7.2 and fd00:7::2. Traffic never leaves the namespaces.
const (
	attacker4 = "198.18.7.1"
	host4     = "198.18.7.2"
	attacker6 = "fd00:7::1"
	host6     = "fd00:7::2"
)

// needNetns skips the test when it cannot create namespaces and run nft, and
// fails it instead under CI, where they must work.
func needNetns(t *testing.T) {
	t.Helper()
	skip := func(why string) {
		if os.Getenv("CI") != "" {
			t.Fatalf("%s (CI must run this test)", why)
		}
		t.Skip(why)
	}
	if os.Geteuid() != 0 {
		skip("not root: network namespaces and nftables need root")
	}
	if _, err := exec.LookPath("ip"); err != nil {
		skip("no ip command (apt-get install -y iproute2)")
	}
	if _, err := exec.LookPath("nft"); err != nil {
		skip("no nft command (apt-get install -y nftables)")
	}
	name := fmt.Sprintf("vigil-probe-%d", os.Getpid())
	if out, err := exec.Command("ip", "netns", "add", name).CombinedOutput(); err != nil {
		skip("ip netns unavailable: " + strings.TrimSpace(string(out)))
	}
	_ = exec.Command("ip", "netns", "del", name).Run()
}

func sh(t *testing.T, args ...string) {
	t.Helper()
	if out, err := exec.Command(args[0], args[1:]...).CombinedOutput(); err != nil {
		t.Fatalf("%s: %v: %s", strings.Join(args, " "), err, out)
	}
}

// testNet creates the two namespaces and returns their names.
func testNet(t *testing.T) (attacker, host string) {
	t.Helper()
	attacker = fmt.Sprintf("vigil-a-%d", os.Getpid())
	host = fmt.Sprintf("vigil-h-%d", os.Getpid())
	for _, ns := range []string{attacker, host} {
		_ = exec.Command("ip", "netns", "del", ns).Run() // a leftover of a killed run
		sh(t, "ip", "netns", "add", ns)
		t.Cleanup(func() { _ = exec.Command("ip", "netns", "del", ns).Run() })
		sh(t, "ip", "-n", ns, "link", "set", "lo", "up")
		// No duplicate address detection: addresses are usable at once.
		sh(t, "ip", "netns", "exec", ns, "sysctl", "-q", "-w", "net.ipv6.conf.all.accept_dad=0", "net.ipv6.conf.default.accept_dad=0")
	}
	sh(t, "ip", "-n", attacker, "link", "add", "va", "type", "veth", "peer", "name", "vh", "netns", host)
	sh(t, "ip", "-n", attacker, "addr", "add", attacker4+"/24", "dev", "va")
	sh(t, "ip", "-n", attacker, "addr", "add", attacker6+"/64", "dev", "va", "nodad")
	sh(t, "ip", "-n", host, "addr", "add", host4+"/24", "dev", "vh")
	sh(t, "ip", "-n", host, "addr", "add", host6+"/64", "dev", "vh", "nodad")
	sh(t, "ip", "-n", attacker, "link", "set", "va", "up")
	sh(t, "ip", "-n", host, "link", "set", "vh", "up")
	return attacker, host
}

// inNetns runs fn on a thread moved into namespace ns, then moves it back.
// Sockets fn creates stay in ns.
func inNetns(t *testing.T, ns string, fn func()) {
	t.Helper()
	runtime.LockOSThread()
	orig, err := os.Open("/proc/thread-self/ns/net")
	if err != nil {
		runtime.UnlockOSThread()
		t.Fatal(err)
	}
	defer orig.Close()
	target, err := os.Open("/var/run/netns/" + ns)
	if err != nil {
		runtime.UnlockOSThread()
		t.Fatal(err)
	}
	defer target.Close()
	if err := unix.Setns(int(target.Fd()), unix.CLONE_NEWNET); err != nil {
		runtime.UnlockOSThread()
		t.Fatal(err)
	}
	fn()
	if err := unix.Setns(int(orig.Fd()), unix.CLONE_NEWNET); err != nil {
		// Leave the thread locked: it dies with the goroutine, never reused
		// in the wrong namespace.
		t.Fatal(err)
	}
	runtime.UnlockOSThread()
}

// listen starts a TCP server in ns on port 7777 (both families) that accepts
// and closes.
func listen(t *testing.T, ns string) {
	t.Helper()
	inNetns(t, ns, func() {
		for _, addr := range []string{host4 + ":7777", "[" + host6 + "]:7777"} {
			l, err := net.Listen("tcp", addr)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = l.Close() })
			go func() {
				for {
					c, err := l.Accept()
					if err != nil {
						return
					}
					_ = c.Close()
				}
			}()
		}
	})
}

// connects reports whether a TCP connection from the attacker namespace to
// addr succeeds (a dropped SYN times out).
func connects(t *testing.T, ns, addr string) bool {
	t.Helper()
	var err error
	inNetns(t, ns, func() {
		var c net.Conn
		c, err = net.DialTimeout("tcp", net.JoinHostPort(addr, "7777"), 400*time.Millisecond)
		if err == nil {
			_ = c.Close()
		}
	})
	if err != nil {
		var ne net.Error
		if !errors.As(err, &ne) || !ne.Timeout() {
			t.Fatalf("connect %s: %v (want success or a timeout)", addr, err)
		}
	}
	return err == nil
}

func block(p string, ttl time.Duration) store.Decision {
	return store.Decision{Target: "nft", Prefix: netip.MustParsePrefix(p), ExpiresAt: time.Now().Add(ttl)}
}

// TestBlocksInNamespace drives nft for real: traffic from a blocked address
// stops, and flows again when the kernel expires the element after its 2 s
// TTL, or when the block is removed.
func TestBlocksInNamespace(t *testing.T) {
	needNetns(t)
	attacker, host := testNet(t)
	listen(t, host)
	ctx := context.Background()
	// The veth link takes a moment to come up.
	for deadline := time.Now().Add(5 * time.Second); !connects(t, attacker, host4) || !connects(t, attacker, host6); {
		if time.Now().After(deadline) {
			t.Fatal("no connectivity before any block")
		}
		time.Sleep(100 * time.Millisecond)
	}

	cfg := DefaultConfig()
	cfg.Netns = host
	s, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Reconcile(ctx, nil); err != nil {
		t.Fatal(err)
	}
	// Creating the table again keeps it and does not duplicate its rules.
	if err := s.Reconcile(ctx, nil); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("ip", "netns", "exec", host, "nft", "list", "chain", "inet", "vigil", "vigil_input").CombinedOutput()
	if err != nil || strings.Count(string(out), "drop") != 2 {
		t.Fatalf("chain after two reconciles: %v\n%s", err, out)
	}

	// Block the attacker for 2 s, on both families.
	start := time.Now()
	if err := s.Add(ctx, []store.Decision{block(attacker4+"/32", 2*time.Second), block(attacker6+"/128", 2*time.Second)}); err != nil {
		t.Fatal(err)
	}
	if connects(t, attacker, host4) {
		t.Fatal("IPv4 traffic from the blocked address still connects")
	}
	if connects(t, attacker, host6) {
		t.Fatal("IPv6 traffic from the blocked address still connects")
	}
	els, err := s.Elements(ctx)
	if err != nil || !slices.Equal(els, []netip.Prefix{netip.MustParsePrefix(attacker4 + "/32"), netip.MustParsePrefix(attacker6 + "/128")}) {
		t.Fatalf("elements %v %v", els, err)
	}

	// Nobody calls Remove: the kernel expires the elements.
	deadline := start.Add(6 * time.Second)
	for !connects(t, attacker, host4) {
		if time.Now().After(deadline) {
			t.Fatal("traffic did not resume after the TTL")
		}
		time.Sleep(200 * time.Millisecond)
	}
	resumed := time.Since(start)
	if resumed < 2*time.Second {
		t.Fatalf("traffic resumed after %v, before the 2 s TTL", resumed)
	}
	if !connects(t, attacker, host6) {
		t.Error("IPv6 traffic did not resume")
	}
	t.Logf("blocked for %v by a 2 s decision (the kernel expired it)", resumed.Round(100*time.Millisecond))

	// Remove ends a block at once; a repeat extends the kernel's timeout.
	if err := s.Add(ctx, []store.Decision{block(attacker4+"/32", 3*time.Second)}); err != nil {
		t.Fatal(err)
	}
	if err := s.Add(ctx, []store.Decision{block(attacker4+"/32", time.Hour)}); err != nil {
		t.Fatal(err)
	}
	held, err := s.list(ctx, cfg.SetV4)
	if err != nil || len(held) != 1 || held[0].expires < 59*time.Minute {
		t.Fatalf("after extending: %+v %v", held, err)
	}
	if connects(t, attacker, host4) {
		t.Fatal("extended block does not block")
	}
	if err := s.Remove(ctx, []store.Decision{block(attacker4+"/32", time.Hour)}); err != nil {
		t.Fatal(err)
	}
	if !connects(t, attacker, host4) {
		t.Fatal("traffic still blocked after Remove")
	}

	// A network containing a blocked address: the set holds only the
	// network; when it goes, the address is blocked again.
	if err := s.Add(ctx, []store.Decision{block(attacker4+"/32", time.Hour), block("198.18.7.0/24", time.Hour)}); err != nil {
		t.Fatal(err)
	}
	if els, _ := s.Elements(ctx); !slices.Equal(els, []netip.Prefix{netip.MustParsePrefix("198.18.7.0/24")}) {
		t.Errorf("elements with a covering network: %v", els)
	}
	if err := s.Remove(ctx, []store.Decision{block("198.18.7.0/24", time.Hour)}); err != nil {
		t.Fatal(err)
	}
	if els, _ := s.Elements(ctx); !slices.Equal(els, []netip.Prefix{netip.MustParsePrefix(attacker4 + "/32")}) {
		t.Errorf("elements after the network went: %v", els)
	}
	if connects(t, attacker, host4) {
		t.Error("the address is not blocked once the network is gone")
	}

	// Reconcile removes what nobody decided (an element added by hand) and
	// restores what is decided.
	sh(t, "ip", "netns", "exec", host, "nft", "add", "element", "inet", "vigil", cfg.SetV4, "{ 81.2.69.160 timeout 1h }")
	if err := s.Reconcile(ctx, []store.Decision{block("185.220.101.4/32", time.Hour)}); err != nil {
		t.Fatal(err)
	}
	if els, _ := s.Elements(ctx); !slices.Equal(els, []netip.Prefix{netip.MustParsePrefix("185.220.101.4/32")}) {
		t.Errorf("elements after reconcile: %v", els)
	}
	if !connects(t, attacker, host4) {
		t.Error("the attacker is still blocked after reconcile dropped its decision")
	}
}

// A bad command is an error naming nft's complaint, not a panic.
func TestErrorsInNamespace(t *testing.T) {
	needNetns(t)
	_, host := testNet(t)
	cfg := DefaultConfig()
	cfg.Netns = host
	cfg.ManageTable = false // the table does not exist
	s, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	err = s.Add(context.Background(), []store.Decision{block("185.220.101.4/32", time.Hour)})
	if err == nil || !strings.Contains(err.Error(), "list set inet vigil blocked_v4") {
		t.Errorf("add without a table: %v", err)
	}
}
