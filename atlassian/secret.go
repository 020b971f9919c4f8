package atlassian

import "encoding/json"

// Secret is a credential. It prints, formats and marshals as [redacted]; only the client reads
// its value, to send it as a Bearer token.
type Secret string

const redacted = "[redacted]"

// String returns [redacted].
func (Secret) String() string { return redacted }

// GoString returns [redacted], so %#v does not leak the value either.
func (Secret) GoString() string { return redacted }

// MarshalJSON encodes the secret as "[redacted]".
func (Secret) MarshalJSON() ([]byte, error) { return json.Marshal(redacted) }

// MarshalText encodes the secret as [redacted].
func (Secret) MarshalText() ([]byte, error) { return []byte(redacted), nil }
