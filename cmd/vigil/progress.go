package main

import (
	"fmt"
	"io"
	"os"
	"sync"
	"time"

	"golang.org/x/term"
)

// isTerminal reports whether w is a terminal.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// progress redraws one status line on stderr while long work runs, when stderr is a
// terminal; otherwise it does nothing. The line is built by status from counters
// the working component exposes, so the component knows nothing of terminals.
type progress struct {
	w      io.Writer
	status func(elapsed time.Duration) string
	stop   chan struct{}
	done   sync.WaitGroup
	active bool
}

func startProgress(w io.Writer, status func(elapsed time.Duration) string) *progress {
	p := &progress{w: w, status: status, stop: make(chan struct{})}
	if !isTerminal(w) {
		return p
	}
	p.active = true
	start := time.Now()
	p.done.Go(func() {
		t := time.NewTicker(250 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-p.stop:
				fmt.Fprint(p.w, "\r\033[K")
				return
			case <-t.C:
				fmt.Fprintf(p.w, "\r\033[K%s", p.status(time.Since(start)))
			}
		}
	})
	return p
}

// Stop erases the status line.
func (p *progress) Stop() {
	if !p.active {
		return
	}
	close(p.stop)
	p.done.Wait()
	p.active = false
}

// readStatus formats the usual status of a read: records, bytes, rate and ETA.
func readStatus(records, bytes, bytesTotal int64, elapsed time.Duration) string {
	s := fmt.Sprintf("%s records, %s", humanCount(records), humanBytes(bytes))
	if secs := elapsed.Seconds(); secs > 0 {
		s += fmt.Sprintf(", %s records/s, %s/s", humanCount(int64(float64(records)/secs)), humanBytes(int64(float64(bytes)/secs)))
		if bytesTotal > 0 && bytes > 0 && bytes < bytesTotal {
			eta := time.Duration(float64(bytesTotal-bytes) / (float64(bytes) / secs) * float64(time.Second))
			s += fmt.Sprintf(", ETA %s", eta.Round(time.Second))
		}
	}
	return s
}

func humanCount(n int64) string {
	switch {
	case n >= 1e9:
		return fmt.Sprintf("%.2fG", float64(n)/1e9)
	case n >= 1e6:
		return fmt.Sprintf("%.2fM", float64(n)/1e6)
	case n >= 1e4:
		return fmt.Sprintf("%.1fk", float64(n)/1e3)
	}
	return fmt.Sprint(n)
}

func humanBytes(n int64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.2f GiB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d B", n)
}
