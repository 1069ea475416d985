// Package scenarios holds the standard pacing benchmark scenarios of docs/pacing.md (S1–S7, and the adversarial S8–S12), read by
// `kakeru pacebench`.
package scenarios

import "embed"

// FS holds S1.yaml … S12.yaml.
//
//go:embed *.yaml
var FS embed.FS
