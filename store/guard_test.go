package store

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/jitbot/jitbot/access"
)

// TestGuard_panicInTransactionIsNotCorruption: a panic in the code a caller runs inside a
// transaction is returned as an error naming where it happened, and does not blame the file;
// the database stays usable.
func TestGuard_panicInTransactionIsNotCorruption(t *testing.T) {
	db, err := Open(filepath.Join(t.TempDir(), "jitbot.db"), Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var nilMap map[string]int
	err = db.Update(context.Background(), func(access.Tx) error {
		nilMap["x"] = 1 // a bug: assignment to a nil map
		return nil
	})
	if err == nil {
		t.Fatal("a panic inside the transaction was not returned")
	}
	if msg := err.Error(); strings.Contains(msg, "corrupted") || !strings.Contains(msg, "TestGuard_panicInTransactionIsNotCorruption") {
		t.Errorf("error %q: want the panicking function named and no blame on the file", msg)
	}
	if err := db.View(context.Background(), func(tx access.Tx) error { _, err := tx.LiveGrants(access.GrantFilter{}); return err }); err != nil {
		t.Errorf("database unusable after the recovered panic: %v", err)
	}
}
