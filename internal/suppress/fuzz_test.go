package suppress

import (
	"errors"
	"testing"

	"github.com/vigil-dev/vigil/internal/store"
	"github.com/vigil-dev/vigil/internal/store/storetest"
)

// FuzzCompileExpression: any expression either compiles or is rejected with
// ErrInvalid, and a compiled rule matches a finding without panicking.
func FuzzCompileExpression(f *testing.F) {
	for _, s := range []string{
		`type = "Recon:EC2/Portscan"`, `severity >= 7 and type like /Recon/`,
		`isIpv4InSubnet(service.action.networkConnectionAction.remoteIpDetails.ipAddressV4, "198.51.100.0/24")`,
		`resource.instanceDetails.tags.0.value = "web"`, `@message like "i-1"`, `count(*) > 1`, `type = `, `(((`,
		`strlen(title) > 10 or service.count > 3`,
	} {
		f.Add(s)
	}
	fd := storetest.NetFinding(f, "Recon:EC2/Portscan", "111122223333", "i-1", "198.51.100.7", storetest.Base)
	f.Fuzz(func(t *testing.T, expr string) {
		r, err := Compile(store.Filter{Name: "fuzz", Action: store.FilterArchive, Rank: 1, Expression: expr})
		if err != nil {
			if !errors.Is(err, store.ErrInvalid) {
				t.Fatalf("%q: error does not wrap ErrInvalid: %v", expr, err)
			}
			return
		}
		r.Match(&fd, nil)
	})
}
