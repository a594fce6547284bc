package record

import "unsafe"

// unsafeString views b as a string without copying. The caller must not let the
// string outlive b's contents; record values carry the same lifetime as Raw.
func unsafeString(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	return unsafe.String(&b[0], len(b))
}
