package accesstest

import (
	"testing"

	"github.com/jitbot/jitbot/access"
)

func TestMemStore_Contract(t *testing.T) {
	StoreContract(t, func(t *testing.T) access.Store { return NewMemStore(StoreContractKey) })
}
