package notify

import (
	"bufio"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"io"
	"math/big"
	"mime"
	"mime/quotedprintable"
	"net"
	"net/mail"
	"net/textproto"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vigil-dev/vigil/internal/finding"
	"github.com/vigil-dev/vigil/internal/store/storetest"
)

// smtpServer is a small SMTP server on 127.0.0.1, enough of RFC 5321 for
// net/smtp: EHLO, STARTTLS (with a certificate the test makes), AUTH PLAIN,
// MAIL, RCPT, DATA, RSET, NOOP, QUIT. It records what it receives.
type smtpServer struct {
	ln       net.Listener
	tls      *tls.Config
	caFile   string
	offerTLS bool
	// rcptReply answers RCPT TO when set ("451 4.3.0 try later").
	rcptReply string

	mu   sync.Mutex
	mail []smtpMail
	wg   sync.WaitGroup
}

type smtpMail struct {
	From   string
	To     []string
	Data   string
	TLS    bool
	Auth   string // the decoded AUTH PLAIN response
	Helos  int
	Issues []string
}

func newSMTPServer(t *testing.T, offerTLS bool) *smtpServer {
	s := &smtpServer{offerTLS: offerTLS}
	s.tls, s.caFile = testCertificate(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s.ln = ln
	s.wg.Go(func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			s.wg.Go(func() { s.session(c) })
		}
	})
	t.Cleanup(func() { ln.Close(); s.wg.Wait() })
	return s
}

func (s *smtpServer) port() int { return s.ln.Addr().(*net.TCPAddr).Port }

func (s *smtpServer) received() []smtpMail {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]smtpMail(nil), s.mail...)
}

func (s *smtpServer) session(c net.Conn) {
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(10 * time.Second))
	tp := textproto.NewConn(c)
	var m smtpMail
	reply := func(line string) { _ = tp.PrintfLine("%s", line) }
	reply("220 test.local ESMTP ready")
	for {
		line, err := tp.ReadLine()
		if err != nil {
			return
		}
		verb, arg, _ := strings.Cut(line, " ")
		switch strings.ToUpper(verb) {
		case "EHLO", "HELO":
			m.Helos++
			lines := []string{"250-test.local"}
			if s.offerTLS && !m.TLS {
				lines = append(lines, "250-STARTTLS")
			}
			lines = append(lines, "250-AUTH PLAIN", "250 8BITMIME")
			for _, l := range lines {
				reply(l)
			}
		case "STARTTLS":
			reply("220 2.0.0 go ahead")
			tc := tls.Server(c, s.tls)
			if err := tc.Handshake(); err != nil {
				return
			}
			c = tc
			tp = textproto.NewConn(tc)
			m.TLS = true
		case "AUTH":
			mech, resp, _ := strings.Cut(arg, " ")
			b, err := base64.StdEncoding.DecodeString(resp)
			if mech != "PLAIN" || err != nil {
				reply("504 5.5.4 unsupported")
				continue
			}
			m.Auth = string(b)
			reply("235 2.7.0 authenticated")
		case "MAIL":
			m.From = strings.Trim(strings.TrimPrefix(arg, "FROM:"), "<>")
			if i := strings.Index(m.From, "> "); i >= 0 {
				m.From = m.From[:i]
			}
			reply("250 2.1.0 ok")
		case "RCPT":
			if s.rcptReply != "" {
				reply(s.rcptReply)
				continue
			}
			m.To = append(m.To, strings.Trim(strings.TrimPrefix(arg, "TO:"), "<>"))
			reply("250 2.1.5 ok")
		case "DATA":
			reply("354 end with .")
			data, err := io.ReadAll(tp.DotReader())
			if err != nil {
				return
			}
			m.Data = string(data)
			s.mu.Lock()
			s.mail = append(s.mail, m)
			s.mu.Unlock()
			reply("250 2.0.0 queued")
		case "RSET", "NOOP":
			reply("250 ok")
		case "QUIT":
			reply("221 bye")
			return
		default:
			reply("502 5.5.2 unknown command")
		}
	}
}

// testCertificate makes a self-signed certificate for 127.0.0.1 and writes it,
// as the CA to trust, to a PEM file.
func testCertificate(t *testing.T) (*tls.Config, string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "test mail relay"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		IPAddresses:           []net.IP{net.ParseIP("127.0.0.1")},
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	return &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key}}}, path
}

func emailConfig(s *smtpServer) EmailConfig {
	return EmailConfig{
		Host: "127.0.0.1", Port: s.port(), CAFile: s.caFile,
		Username: "vigil", Password: "hunter2",
		From: "vigil@example.com", To: []string{"soc@example.com", "oncall@example.com"},
	}
}

func newEmailNotifier(t *testing.T, cfg EmailConfig) *Email {
	t.Helper()
	e, err := NewEmail(cfg, 5*time.Second, func() time.Time { return start })
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func TestEmailOverSTARTTLS(t *testing.T) {
	s := newSMTPServer(t, true)
	e := newEmailNotifier(t, emailConfig(s))
	good := storetest.NetFinding(t, "UnauthorizedAccess:EC2/SSHBruteForce", "111122223333", "i-0123456789abcdef0", "198.51.100.7", finding.TimeOf(start))
	if err := e.Send(context.Background(), []Alert{alertOf(good, KindNew, 1), alertOf(hostile(t), KindUpdate, 2)}); err != nil {
		t.Fatal(err)
	}
	got := s.received()
	if len(got) != 1 {
		t.Fatalf("%d messages", len(got))
	}
	m := got[0]
	if !m.TLS || m.Helos != 2 {
		t.Errorf("TLS %v after %d EHLOs; want STARTTLS and a second EHLO", m.TLS, m.Helos)
	}
	if m.Auth != "\x00vigil\x00hunter2" {
		t.Errorf("AUTH PLAIN %q", m.Auth)
	}
	if m.From != "vigil@example.com" || strings.Join(m.To, ",") != "soc@example.com,oncall@example.com" {
		t.Errorf("envelope from %q to %v", m.From, m.To)
	}
	msg, err := mail.ReadMessage(strings.NewReader(m.Data))
	if err != nil {
		t.Fatalf("not a mail message: %v\n%s", err, m.Data)
	}
	subject, err := new(mime.WordDecoder).DecodeHeader(msg.Header.Get("Subject"))
	if err != nil || subject != "[vigil] 2 findings (highest: High)" {
		t.Errorf("subject %q %v", subject, err)
	}
	if msg.Header.Get("Bcc") != "" || strings.Contains(m.Data, "\r\nBcc:") {
		t.Error("a finding's title added a Bcc header")
	}
	if msg.Header.Get("Message-ID") == "" || msg.Header.Get("Date") != start.Format(time.RFC1123Z) || msg.Header.Get("Content-Type") != `text/plain; charset="utf-8"` {
		t.Errorf("headers %v", msg.Header)
	}
	body, err := io.ReadAll(quotedprintable.NewReader(msg.Body))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"New Low finding: UnauthorizedAccess:EC2/SSHBruteForce",
		"Resource:          Instance i-0123456789abcdef0",
		"Remote:            198.51.100.7 (Example Networks, NL)",
		"Finding ID:        " + good.ID,
		"Link:              https://vigil.example.com/findings/" + good.ID,
		"Updated High finding: Trojan:EC2/DNSDataExfiltration",
	} {
		if !strings.Contains(string(body), want) {
			t.Errorf("body lacks %q:\n%s", want, body)
		}
	}
}

func TestEmailFailures(t *testing.T) {
	f := storetest.NetFinding(t, "Recon:EC2/Portscan", "111122223333", "i-1", "198.51.100.7", finding.TimeOf(start))
	alerts := []Alert{alertOf(f, KindNew, 1)}

	t.Run("transient 4xx", func(t *testing.T) {
		s := newSMTPServer(t, true)
		s.rcptReply = "451 4.3.0 try again later"
		err := newEmailNotifier(t, emailConfig(s)).Send(context.Background(), alerts)
		if err == nil || errors.Is(err, ErrPermanent) || !strings.Contains(err.Error(), "451") {
			t.Errorf("451: %v, want a transient error", err)
		}
	})
	t.Run("permanent 5xx", func(t *testing.T) {
		s := newSMTPServer(t, true)
		s.rcptReply = "550 5.1.1 no such user"
		err := newEmailNotifier(t, emailConfig(s)).Send(context.Background(), alerts)
		if !errors.Is(err, ErrPermanent) || !strings.Contains(err.Error(), "550") {
			t.Errorf("550: %v, want a permanent error", err)
		}
	})
	t.Run("no TLS, password", func(t *testing.T) {
		s := newSMTPServer(t, false)
		err := newEmailNotifier(t, emailConfig(s)).Send(context.Background(), alerts)
		if !errors.Is(err, ErrPermanent) {
			t.Errorf("server without TLS: %v", err)
		}
		if got := s.received(); len(got) != 0 {
			t.Errorf("mail sent: %+v", got)
		}
	})
	t.Run("TLS required", func(t *testing.T) {
		s := newSMTPServer(t, false)
		cfg := emailConfig(s)
		cfg.Username, cfg.Password, cfg.TLS = "", "", "required"
		if err := newEmailNotifier(t, cfg).Send(context.Background(), alerts); !errors.Is(err, ErrPermanent) {
			t.Errorf("required TLS not offered: %v", err)
		}
	})
	t.Run("no auth, auto, no TLS offered", func(t *testing.T) {
		s := newSMTPServer(t, false)
		cfg := emailConfig(s)
		cfg.Username, cfg.Password = "", ""
		if err := newEmailNotifier(t, cfg).Send(context.Background(), alerts); err != nil {
			t.Fatal(err)
		}
		if got := s.received(); len(got) != 1 || got[0].TLS || got[0].Auth != "" {
			t.Errorf("plain delivery: %+v", got)
		}
	})
	t.Run("untrusted certificate", func(t *testing.T) {
		s := newSMTPServer(t, true)
		cfg := emailConfig(s)
		cfg.CAFile = ""
		err := newEmailNotifier(t, cfg).Send(context.Background(), alerts)
		if err == nil || !strings.Contains(err.Error(), "STARTTLS") {
			t.Errorf("self-signed certificate without ca_file: %v", err)
		}
		if got := s.received(); len(got) != 0 {
			t.Errorf("mail sent over an untrusted connection")
		}
	})
	t.Run("server down", func(t *testing.T) {
		ln, _ := net.Listen("tcp", "127.0.0.1:0")
		port := ln.Addr().(*net.TCPAddr).Port
		ln.Close()
		cfg := EmailConfig{Host: "127.0.0.1", Port: port, From: "a@example.com", To: []string{"b@example.com"}}
		if err := newEmailNotifier(t, cfg).Send(context.Background(), alerts); err == nil || errors.Is(err, ErrPermanent) {
			t.Errorf("connection refused: %v, want transient", err)
		}
	})
}

// A server that accepts and then says nothing: the send ends with ctx.
func TestEmailHonoursContext(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		c, err := ln.Accept()
		if err == nil {
			_, _ = bufio.NewReader(c).ReadString('\n') // never answers
			c.Close()
		}
	}()
	cfg := EmailConfig{Host: "127.0.0.1", Port: ln.Addr().(*net.TCPAddr).Port, From: "a@example.com", To: []string{"b@example.com"}}
	e := newEmailNotifier(t, cfg)
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	began := time.Now()
	f := storetest.NetFinding(t, "Recon:EC2/Portscan", "111122223333", "i-1", "198.51.100.7", finding.TimeOf(start))
	if err := e.Send(ctx, []Alert{alertOf(f, KindNew, 1)}); err == nil {
		t.Fatal("no error from a silent server")
	}
	if d := time.Since(began); d > 3*time.Second {
		t.Errorf("send took %s after its context ended", d)
	}
}
