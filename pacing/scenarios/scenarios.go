// Package scenarios holds the standard pacing benchmark scenarios S1–S7 of docs/pacing.md, read by
// `kakeru pacebench`.
package scenarios

import "embed"

// FS holds S1.yaml … S7.yaml.
//
//go:embed *.yaml
var FS embed.FS
