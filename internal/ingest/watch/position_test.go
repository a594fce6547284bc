package watch

import "testing"

// FuzzDecodePos: a checkpointed position that is not one of ours is an error,
// never a panic, and what decodes encodes back to itself.
func FuzzDecodePos(f *testing.F) {
	f.Add(pos{Path: "/var/log/a.log", Dev: 1, Ino: 2, Off: 300, FP: "ab", FPN: 1024}.encode())
	f.Add([]byte(`{"o":-1}`))
	f.Add([]byte(`not json`))
	f.Fuzz(func(t *testing.T, b []byte) {
		p, err := decodePos(b)
		if err != nil {
			return
		}
		if p.Off < 0 || p.FPN < 0 || p.FPN > fpSize {
			t.Fatalf("accepted %+v", p)
		}
		q, err := decodePos(p.encode())
		if err != nil || q != p {
			t.Fatalf("round trip: %+v → %+v, %v", p, q, err)
		}
	})
}
