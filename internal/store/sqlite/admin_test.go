package sqlite

import (
	"testing"

	"github.com/vigil-dev/vigil/internal/store/storetest"
)

func TestAdminContract(t *testing.T) {
	storetest.RunAdmin(t, func(t *testing.T) storetest.AdminStore { return openTemp(t) })
}
