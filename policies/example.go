package policies

import _ "embed"

// Example is policies/example.yaml: a realistic policy covering every feature, used by
// `jitbot demo` and as a starting point.
//
//go:embed example.yaml
var Example []byte
