//go:build tools

// Package tools records the main package built by test/tools/build-go-tool.sh so that
// `go mod tidy` keeps its dependencies in go.sum.
package tools

import (
	_ "github.com/prometheus/alertmanager/cmd/alertmanager"
)
