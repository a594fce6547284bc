package investigate

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"fmt"
	"html"
	"io"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net/mail"
	"net/textproto"
	"regexp"
	"strings"
	"time"
	"unicode/utf8"
)

// E-mail. An abuse notice saved from a mail client is an RFC 5322 message, most
// often multipart/alternative (text and HTML), quoted-printable or base64, in
// UTF-8 or Latin-1; forwarded notices nest a message/rfc822 part; complainants
// attach their logs as text files. readEmail walks the MIME tree (bounded in
// depth, parts and bytes), decodes every text part, and returns the text the
// rest of the parser reads: the text/plain parts (HTML parts turned into text
// only when a message has no plain text), attachments that are text, and the
// headers of nested messages.

// Limits on what a report may make the parser do.
const (
	maxReportBytes = 8 << 20 // the whole input
	maxMIMEDepth   = 8
	maxMIMEParts   = 200
	maxLineBytes   = 4096
	maxLines       = 200_000
)

// attachmentMarker starts the text of each attachment in the text readEmail
// returns: what follows it is part of the log extract.
const attachmentMarker = "----- attached file -----"

// message is what readEmail found.
type message struct {
	subject, from, to string
	date              time.Time
	text              string
	notes             []string
}

// reHeaderLine matches an RFC 5322 header field line.
var reHeaderLine = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9-]{0,60}:`)

// mailHeaders are the fields that tell a saved e-mail from pasted text.
var mailHeaders = []string{"From", "Subject", "Date", "Received", "Return-Path", "Message-Id", "Mime-Version", "Delivered-To", "Content-Type", "To"}

// looksLikeEmail reports whether data starts with a header block that holds at
// least two of the usual mail header fields.
func looksLikeEmail(data []byte) bool {
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 0, 4096), maxLineBytes*4)
	known := 0
	for n := 0; sc.Scan() && n < 200; n++ {
		l := sc.Text()
		if strings.TrimSpace(l) == "" {
			return known >= 2
		}
		if l[0] == ' ' || l[0] == '\t' { // a folded continuation
			if n == 0 {
				return false
			}
			continue
		}
		if !reHeaderLine.MatchString(l) {
			return false
		}
		name, _, _ := strings.Cut(l, ":")
		for _, h := range mailHeaders {
			if strings.EqualFold(name, h) {
				known++
			}
		}
	}
	return false
}

// readEmail parses a saved e-mail.
func readEmail(data []byte) (*message, error) {
	m, err := mail.ReadMessage(bytes.NewReader(data))
	if err != nil {
		return nil, fmt.Errorf("read e-mail headers: %w", err)
	}
	msg := &message{}
	dec := wordDecoder()
	msg.subject = decodeHeader(dec, m.Header.Get("Subject"))
	msg.from = decodeHeader(dec, m.Header.Get("From"))
	msg.to = decodeHeader(dec, m.Header.Get("To"))
	if d, err := m.Header.Date(); err == nil {
		msg.date = d.UTC()
	} else if m.Header.Get("Date") != "" {
		msg.notes = append(msg.notes, fmt.Sprintf("the e-mail's Date header %q could not be read", clip(m.Header.Get("Date"), 80)))
	}
	w := &mimeWalker{dec: dec}
	w.walk(textproto.MIMEHeader(m.Header), m.Body, 0)
	msg.notes = append(msg.notes, w.notes...)
	var parts []string
	switch {
	case len(w.plain) > 0:
		parts = w.plain
	case len(w.html) > 0:
		parts = w.html
		msg.notes = append(msg.notes, "the e-mail has no plain-text part; its HTML was read as text")
	}
	for _, a := range w.attached {
		parts = append(parts, attachmentMarker+"\n"+a)
	}
	msg.text = strings.Join(parts, "\n\n")
	return msg, nil
}

func wordDecoder() *mime.WordDecoder {
	return &mime.WordDecoder{CharsetReader: func(charset string, input io.Reader) (io.Reader, error) {
		data, err := io.ReadAll(io.LimitReader(input, maxReportBytes))
		if err != nil {
			return nil, err
		}
		return strings.NewReader(toUTF8(data, charset)), nil
	}}
}

func decodeHeader(dec *mime.WordDecoder, s string) string {
	if d, err := dec.DecodeHeader(s); err == nil {
		s = d
	}
	return strings.ToValidUTF8(s, "\uFFFD")
}

// mimeWalker collects the text of a MIME tree.
type mimeWalker struct {
	dec                   *mime.WordDecoder
	plain, html, attached []string
	parts                 int
	notes                 []string
}

func (w *mimeWalker) note(format string, a ...any) {
	if len(w.notes) < 20 {
		w.notes = append(w.notes, fmt.Sprintf(format, a...))
	}
}

func (w *mimeWalker) walk(h textproto.MIMEHeader, body io.Reader, depth int) {
	if w.parts++; w.parts > maxMIMEParts {
		if w.parts == maxMIMEParts+1 {
			w.note("the e-mail has more than %d MIME parts; the rest were not read", maxMIMEParts)
		}
		return
	}
	if depth > maxMIMEDepth {
		w.note("MIME parts nested deeper than %d levels were not read", maxMIMEDepth)
		return
	}
	ct := h.Get("Content-Type")
	media, params, err := mime.ParseMediaType(ct)
	if ct == "" {
		media, params = "text/plain", map[string]string{}
	} else if err != nil {
		if media == "" {
			media = "text/plain"
		}
		w.note("Content-Type %q could not be read fully (%v); read as %s", clip(ct, 80), err, media)
	}
	name := params["name"]
	if _, dp, err := mime.ParseMediaType(h.Get("Content-Disposition")); err == nil && dp["filename"] != "" {
		name = dp["filename"]
	}
	name = decodeHeader(w.dec, name)
	switch {
	case strings.HasPrefix(media, "multipart/"):
		boundary := params["boundary"]
		if boundary == "" {
			w.note("a %s part has no boundary; it was read as text", media)
			w.plain = append(w.plain, w.decodeText(h, body, params["charset"]))
			return
		}
		mr := multipart.NewReader(body, boundary)
		for {
			p, err := mr.NextRawPart()
			if err == io.EOF {
				return
			}
			if err != nil {
				w.note("a %s part ends early: %v", media, err)
				return
			}
			w.walk(p.Header, p, depth+1)
			if w.parts > maxMIMEParts {
				return
			}
		}
	case media == "message/rfc822" || media == "message/global":
		raw := w.decodeBytes(h, body)
		inner, err := mail.ReadMessage(bytes.NewReader(raw))
		if err != nil {
			w.note("an attached message could not be read: %v", err)
			w.attached = append(w.attached, toUTF8(raw, "utf-8"))
			return
		}
		var hdr strings.Builder
		for _, k := range []string{"From", "To", "Date", "Subject"} {
			if v := inner.Header.Get(k); v != "" {
				fmt.Fprintf(&hdr, "%s: %s\n", k, decodeHeader(w.dec, v))
			}
		}
		sub := &mimeWalker{dec: w.dec, parts: w.parts}
		sub.walk(textproto.MIMEHeader(inner.Header), inner.Body, depth+1)
		w.parts = sub.parts
		w.notes = append(w.notes, sub.notes...)
		texts := sub.plain
		if len(texts) == 0 {
			texts = sub.html
		}
		w.attached = append(w.attached, hdr.String()+strings.Join(append(texts, sub.attached...), "\n\n"))
	case media == "text/html":
		text := htmlToText(w.decodeText(h, body, params["charset"]))
		if name != "" {
			w.attached = append(w.attached, text)
		} else {
			w.html = append(w.html, text)
		}
	case strings.HasPrefix(media, "text/") || isTextName(name):
		text := w.decodeText(h, body, params["charset"])
		if name != "" || strings.HasPrefix(strings.ToLower(h.Get("Content-Disposition")), "attachment") {
			w.attached = append(w.attached, text)
		} else {
			w.plain = append(w.plain, text)
		}
	default:
		what := media
		if name != "" {
			what = name + " (" + media + ")"
		}
		w.note("attachment %s was not read: not text", what)
		io.Copy(io.Discard, io.LimitReader(body, maxReportBytes))
	}
}

func isTextName(name string) bool {
	n := strings.ToLower(name)
	for _, ext := range []string{".txt", ".log", ".csv", ".tsv", ".json"} {
		if strings.HasSuffix(n, ext) {
			return true
		}
	}
	return false
}

// decodeBytes undoes the part's Content-Transfer-Encoding. A broken encoding is
// noted and what could be decoded is kept.
func (w *mimeWalker) decodeBytes(h textproto.MIMEHeader, body io.Reader) []byte {
	body = io.LimitReader(body, maxReportBytes)
	switch cte := strings.ToLower(strings.TrimSpace(h.Get("Content-Transfer-Encoding"))); cte {
	case "quoted-printable":
		raw, _ := io.ReadAll(body)
		out, err := io.ReadAll(quotedprintable.NewReader(bytes.NewReader(raw)))
		if err != nil {
			// The standard decoder stops at the first bad sequence; decode leniently.
			w.note("quoted-printable text is malformed (%v); it was decoded leniently", err)
			return lenientQP(raw)
		}
		return out
	case "base64":
		raw, _ := io.ReadAll(body)
		// Keep the alphabet only (line breaks, spaces and stray characters go),
		// drop the padding, and decode what there is.
		stray := false
		clean := bytes.Map(func(r rune) rune {
			switch {
			case r >= 'A' && r <= 'Z' || r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '+' || r == '/':
				return r
			case r != '=' && r != ' ' && r != '\t' && r != '\r' && r != '\n':
				stray = true
			}
			return -1
		}, raw)
		if len(clean)%4 == 1 {
			clean = clean[:len(clean)-1] // a lone trailing character carries no byte
		}
		out := make([]byte, base64.RawStdEncoding.DecodedLen(len(clean)))
		n, err := base64.RawStdEncoding.Decode(out, clean)
		if err != nil || stray {
			w.note("base64 text is malformed; what could be decoded was read")
		}
		return out[:n]
	case "", "7bit", "8bit", "binary":
		out, _ := io.ReadAll(body)
		return out
	default:
		w.note("unknown Content-Transfer-Encoding %q; the part was read as it is", clip(cte, 40))
		out, _ := io.ReadAll(body)
		return out
	}
}

// lenientQP decodes quoted-printable text that breaks the rules: "=XY" with hex
// digits is a byte, "=" at the end of a line (before any CR/LF run) joins lines,
// and any other "=" is kept as it is.
func lenientQP(raw []byte) []byte {
	out := make([]byte, 0, len(raw))
	unhex := func(c byte) (byte, bool) {
		switch {
		case c >= '0' && c <= '9':
			return c - '0', true
		case c >= 'A' && c <= 'F':
			return c - 'A' + 10, true
		case c >= 'a' && c <= 'f':
			return c - 'a' + 10, true
		}
		return 0, false
	}
	for i := 0; i < len(raw); i++ {
		c := raw[i]
		if c != '=' {
			out = append(out, c)
			continue
		}
		j := i + 1
		for j < len(raw) && (raw[j] == ' ' || raw[j] == '\t') {
			j++
		}
		if j < len(raw) && (raw[j] == '\r' || raw[j] == '\n') { // soft line break
			k := j
			for k < len(raw) && raw[k] == '\r' {
				k++
			}
			if k < len(raw) && raw[k] == '\n' {
				k++
			}
			i = k - 1
			continue
		}
		if i+2 < len(raw) {
			if h, ok := unhex(raw[i+1]); ok {
				if l, ok := unhex(raw[i+2]); ok {
					out = append(out, h<<4|l)
					i += 2
					continue
				}
			}
		}
		out = append(out, c)
	}
	return out
}

func (w *mimeWalker) decodeText(h textproto.MIMEHeader, body io.Reader, charset string) string {
	return toUTF8(w.decodeBytes(h, body), charset)
}

// win1252 maps the bytes 0x80–0x9F of Windows-1252 to their characters (Latin-1
// has control characters there).
var win1252 = [32]rune{'€', '\u0081', '‚', 'ƒ', '„', '…', '†', '‡', 'ˆ', '‰', 'Š', '‹', 'Œ', '\u008d', 'Ž', '\u008f',
	'\u0090', '‘', '’', '“', '”', '•', '–', '—', '˜', '™', 'š', '›', 'œ', '\u009d', 'ž', 'Ÿ'}

// toUTF8 converts text in charset to UTF-8. UTF-8, ASCII and unknown charsets
// are taken as UTF-8 (invalid bytes replaced); Latin-1 and Windows-1252 are
// converted.
func toUTF8(data []byte, charset string) string {
	switch strings.ToLower(strings.TrimSpace(charset)) {
	case "iso-8859-1", "latin1", "latin-1", "iso8859-1", "iso_8859-1", "windows-1252", "cp1252", "iso-8859-15":
		var b strings.Builder
		b.Grow(len(data))
		for _, c := range data {
			switch {
			case c >= 0x80 && c < 0xa0:
				b.WriteRune(win1252[c-0x80])
			default:
				b.WriteRune(rune(c))
			}
		}
		return b.String()
	}
	if utf8.Valid(data) {
		return string(data)
	}
	return strings.ToValidUTF8(string(data), "\uFFFD")
}

// htmlToText turns an HTML body into text: block elements and <br> end lines,
// <script> and <style> vanish, tags go, entities are decoded. It is a small state
// machine, not an HTML parser: good enough for the HTML mail clients write.
func htmlToText(s string) string {
	var b strings.Builder
	lower := strings.ToLower(s)
	i := 0
	for i < len(s) {
		c := s[i]
		if c != '<' {
			j := strings.IndexByte(s[i:], '<')
			if j < 0 {
				j = len(s) - i
			}
			b.WriteString(html.UnescapeString(s[i : i+j]))
			i += j
			continue
		}
		end := strings.IndexByte(s[i:], '>')
		if end < 0 {
			break
		}
		tag := lower[i+1 : i+end]
		i += end + 1
		name := strings.TrimLeft(tag, "/")
		if k := strings.IndexAny(name, " \t\r\n/"); k >= 0 {
			name = name[:k]
		}
		switch name {
		case "script", "style", "head":
			if !strings.HasPrefix(tag, "/") {
				if k := strings.Index(lower[i:], "</"+name); k >= 0 {
					i += k
				} else {
					i = len(s)
				}
			}
		case "br", "p", "div", "tr", "li", "pre", "h1", "h2", "h3", "h4", "table", "blockquote":
			b.WriteByte('\n')
		case "td", "th":
			b.WriteByte('\t')
		}
	}
	// Collapse the blank lines block elements leave behind.
	lines := strings.Split(b.String(), "\n")
	out := lines[:0]
	blank := 0
	for _, l := range lines {
		if strings.TrimSpace(l) == "" {
			if blank++; blank > 1 {
				continue
			}
		} else {
			blank = 0
		}
		out = append(out, strings.TrimRight(l, " \t\r"))
	}
	return strings.Join(out, "\n")
}

// clip shortens s to at most n bytes (on a character boundary), marking the cut.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "…"
}
