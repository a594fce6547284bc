package vpcflow

import "github.com/vigil-dev/vigil/internal/decode"

// interner is decode.Interner with the flow-log field reader (text) on it.
type interner struct{ decode.Interner }

func (in *interner) intern(b []byte) string { return in.Intern(b) }
