package atlassiantest

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"strings"
)

// cursor is the state behind an opaque page token: the query (so a cursor overrides the other
// parameters, as the API documents) and the position to resume from.
type cursor struct {
	Q   json.RawMessage `json:"q,omitempty"`
	Pos int             `json:"p"`
}

func encodeCursor(c cursor) string {
	b, _ := json.Marshal(c)
	return fmt.Sprintf("%08x", crc32.ChecksumIEEE(b)) + base64.RawURLEncoding.EncodeToString(b)
}

var errCursor = errors.New("the cursor is invalid")

func decodeCursor(s string) (cursor, error) {
	var c cursor
	if len(s) < 9 {
		return c, errCursor
	}
	b, err := base64.RawURLEncoding.DecodeString(s[8:])
	if err != nil || !strings.EqualFold(s[:8], fmt.Sprintf("%08x", crc32.ChecksumIEEE(b))) {
		return c, errCursor
	}
	if err := json.Unmarshal(b, &c); err != nil || c.Pos < 0 {
		return c, errCursor
	}
	return c, nil
}

// resume replaces *q with the query a cursor carries and returns the position it points at.
// A query without a cursor is left alone at position 0. ok is false for a bad cursor.
func resume[Q any](q *Q, raw string) (pos int, ok bool) {
	if raw == "" {
		return 0, true
	}
	c, err := decodeCursor(raw)
	var fresh Q
	if err != nil || json.Unmarshal(c.Q, &fresh) != nil {
		return 0, false
	}
	*q = fresh
	return c.Pos, true
}
