package access

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/rs/zerolog"
)

// TestLogFailure: an expected conflict is logged at debug, any other failure at error.
func TestLogFailure(t *testing.T) {
	tests := []struct {
		name string
		err  error
		want string
	}{
		{"conflict", Errorf(ECONFLICT, "grant g1 changed"), `"level":"debug"`},
		{"wrapped_conflict", fmtWrap(Errorf(ECONFLICT, "held")), `"level":"debug"`},
		{"store", errors.New("disk full"), `"level":"error"`},
		{"unavailable", Errorf(EUNAVAILABLE, "Atlassian is down."), `"level":"error"`},
		{"not_found", Errorf(ENOTFOUND, "no grant g1"), `"level":"error"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			log := zerolog.New(&buf)
			logFailure(&log, tt.err).Msg("sweep")
			if !strings.Contains(buf.String(), tt.want) {
				t.Errorf("logged %s, want %s", buf.String(), tt.want)
			}
		})
	}
}

func fmtWrap(err error) error { return errors.Join(errors.New("sweep"), err) }
