package jsonscan

import "testing"

func plainRunScalar(b []byte) int {
	for i, c := range b {
		if c == '"' || c == '\\' || c < 0x20 {
			return i
		}
	}
	return len(b)
}

func TestPlainRun(t *testing.T) {
	for _, s := range []string{"", "a", "abcdefgh", "abcdefg\"", "abcdefghi\\j", "é日本語\x1fx", "\x00", "0123456789abcdef\x7f\"", "\xff\xff\xff\xff\xff\xff\xff\xff\"", "!!!!!!!!#"} {
		if got, want := PlainRun([]byte(s)), plainRunScalar([]byte(s)); got != want {
			t.Errorf("PlainRun(%q) = %d, want %d", s, got, want)
		}
	}
}

func FuzzPlainRun(f *testing.F) {
	f.Add([]byte("abcdefghijklmnop\"q"))
	f.Add([]byte("\x80\x9f\xa0\x21\x22\x5b\x5c\x5d\x1f\x20"))
	f.Fuzz(func(t *testing.T, b []byte) {
		if got, want := PlainRun(b), plainRunScalar(b); got != want {
			t.Fatalf("PlainRun(%q) = %d, want %d", b, got, want)
		}
	})
}
