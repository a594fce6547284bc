package notify

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"mime"
	"mime/quotedprintable"
	"net"
	"net/smtp"
	"net/textproto"
	"os"
	"strconv"
	"strings"
	"time"
)

// Email sends one plain-text message per batch over SMTP with net/smtp:
// STARTTLS when the server offers it (or always, or implicit TLS, or never, per
// EmailConfig.TLS), AUTH PLAIN over TLS when a username is set. The subject names
// the finding (or the count of findings) and its severity; the body lists each
// finding's details and link. Header values are encoded (RFC 2047) and free of
// line breaks, so nothing from a log can add a header.
//
// SMTP replies classify failures: 4xx is transient (retried), 5xx permanent.
type Email struct {
	cfg     EmailConfig
	timeout time.Duration
	now     func() time.Time
	roots   *x509.CertPool // nil: the system's
}

// NewEmail returns the e-mail notifier of cfg; timeout bounds the dial and each
// exchange, now dates the messages.
func NewEmail(cfg EmailConfig, timeout time.Duration, now func() time.Time) (*Email, error) {
	e := &Email{cfg: cfg, timeout: timeout, now: now}
	if e.cfg.Port == 0 {
		e.cfg.Port = 587
		if e.cfg.TLS == "implicit" {
			e.cfg.Port = 465
		}
	}
	if e.cfg.TLS == "" {
		e.cfg.TLS = "auto"
	}
	if e.cfg.SubjectPrefix == "" {
		e.cfg.SubjectPrefix = "[vigil]"
	}
	if cfg.CAFile != "" {
		pem, err := os.ReadFile(cfg.CAFile)
		if err != nil {
			return nil, fmt.Errorf("email.ca_file: %w", err)
		}
		e.roots = x509.NewCertPool()
		if !e.roots.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("email.ca_file: %s holds no PEM certificate", cfg.CAFile)
		}
	}
	return e, nil
}

// MaxBatch implements Notifier.
func (e *Email) MaxBatch() int { return 20 }

// Send implements Notifier.
func (e *Email) Send(ctx context.Context, alerts []Alert) error {
	msg := e.message(alerts)
	if err := e.send(ctx, msg); err != nil {
		return classifySMTP(fmt.Errorf("send e-mail via %s: %w", net.JoinHostPort(e.cfg.Host, strconv.Itoa(e.cfg.Port)), err))
	}
	return nil
}

func (e *Email) tlsConfig() *tls.Config {
	return &tls.Config{ServerName: e.cfg.Host, RootCAs: e.roots, MinVersion: tls.VersionTLS12}
}

func (e *Email) send(ctx context.Context, msg []byte) error {
	addr := net.JoinHostPort(e.cfg.Host, strconv.Itoa(e.cfg.Port))
	d := net.Dialer{Timeout: e.timeout}
	conn, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return err
	}
	// One deadline for the whole exchange, and the connection closed if ctx
	// ends first: net/smtp itself knows no context.
	deadline := time.Now().Add(e.timeout)
	if dl, ok := ctx.Deadline(); ok && dl.Before(deadline) {
		deadline = dl
	}
	_ = conn.SetDeadline(deadline)
	stop := context.AfterFunc(ctx, func() { conn.Close() })
	defer stop()
	if e.cfg.TLS == "implicit" {
		conn = tls.Client(conn, e.tlsConfig())
	}
	c, err := smtp.NewClient(conn, e.cfg.Host)
	if err != nil {
		conn.Close()
		return err
	}
	defer c.Close()
	if err := c.Hello(helloName()); err != nil {
		return err
	}
	if e.cfg.TLS == "auto" || e.cfg.TLS == "required" {
		if ok, _ := c.Extension("STARTTLS"); ok {
			if err := c.StartTLS(e.tlsConfig()); err != nil {
				return fmt.Errorf("STARTTLS: %w", err)
			}
		} else if e.cfg.TLS == "required" {
			return Permanent(errors.New("the server does not offer STARTTLS and email.tls is required"))
		}
	}
	if e.cfg.Username != "" {
		if _, isTLS := c.TLSConnectionState(); !isTLS {
			return Permanent(errors.New("the server offers no TLS; not sending the password in clear"))
		}
		if err := c.Auth(smtp.PlainAuth("", e.cfg.Username, e.cfg.Password.Reveal(), e.cfg.Host)); err != nil {
			return fmt.Errorf("authenticate: %w", err)
		}
	}
	if err := c.Mail(e.cfg.From); err != nil {
		return err
	}
	for _, to := range e.cfg.To {
		if err := c.Rcpt(to); err != nil {
			return fmt.Errorf("recipient %s: %w", to, err)
		}
	}
	w, err := c.Data()
	if err != nil {
		return err
	}
	if _, err := w.Write(msg); err != nil {
		return err
	}
	if err := w.Close(); err != nil {
		return err
	}
	return c.Quit()
}

// classifySMTP marks 5xx replies permanent; 4xx replies and connection
// failures stay transient.
func classifySMTP(err error) error {
	var te *textproto.Error
	if errors.As(err, &te) && te.Code >= 500 {
		return Permanent(err)
	}
	return err
}

func helloName() string {
	h, err := os.Hostname()
	if err != nil || h == "" || strings.ContainsAny(h, " \r\n") {
		return "localhost"
	}
	return h
}

// message builds the RFC 5322 message: headers, then a quoted-printable UTF-8
// text body.
func (e *Email) message(alerts []Alert) []byte {
	var b bytes.Buffer
	header := func(k, v string) {
		b.WriteString(k + ": " + v + "\r\n")
	}
	header("From", e.cfg.From)
	header("To", strings.Join(e.cfg.To, ", "))
	header("Subject", mime.QEncoding.Encode("utf-8", oneLine(clip(e.cfg.SubjectPrefix+" "+summaryText(alerts), 200))))
	header("Date", e.now().UTC().Format(time.RFC1123Z))
	header("Message-ID", "<"+deliveryID(alerts)+"@vigil>")
	header("MIME-Version", "1.0")
	header("Content-Type", `text/plain; charset="utf-8"`)
	header("Content-Transfer-Encoding", "quoted-printable")
	header("Auto-Submitted", "auto-generated")
	b.WriteString("\r\n")
	qp := quotedprintable.NewWriter(&b)
	_, _ = qp.Write([]byte(strings.ReplaceAll(emailBody(alerts), "\n", "\r\n")))
	_ = qp.Close()
	return b.Bytes()
}

func emailBody(alerts []Alert) string {
	var b strings.Builder
	for i := range alerts {
		a := &alerts[i]
		f := &a.Finding
		if i > 0 {
			b.WriteString("\n----------------------------------------\n\n")
		}
		fmt.Fprintf(&b, "%s %s finding: %s\n\n", kindText(a.Kind), f.Severity.Band().Title(), f.Type)
		fmt.Fprintf(&b, "%s\n\n", oneLine(titleText(f)))
		row := func(k, v string) { fmt.Fprintf(&b, "%-18s %s\n", k+":", oneLine(v)) }
		row("Severity", severityText(f))
		row("Type", string(f.Type))
		row("Resource", resourceText(f))
		row("Account / Region", f.AccountID+" / "+f.Region)
		row("Count", strconv.FormatInt(f.Service.Count, 10))
		row("First seen", timeText(f.Service.EventFirstSeen))
		row("Last seen", timeText(f.Service.EventLastSeen))
		if actor := actorText(f); actor != "" {
			row("Remote", actor)
		}
		row("Finding ID", f.ID)
		if a.Link != "" {
			row("Link", a.Link)
		}
		if f.Description != "" {
			fmt.Fprintf(&b, "\n%s\n", oneLine(f.Description))
		}
	}
	b.WriteString("\n-- \nSent by vigil.\n")
	return b.String()
}

// oneLine replaces control characters (line breaks included) by spaces.
func oneLine(s string) string {
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return ' '
		}
		return r
	}, s)
}
