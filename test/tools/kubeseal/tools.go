//go:build tools

// Package tools records the main package built by test/tools/build-go-tool.sh so that
// `go mod tidy` keeps its dependencies in go.sum. ./gotemplate, the Go template oracle of
// the template tests, is part of this module.
package tools

import (
	_ "github.com/bitnami-labs/sealed-secrets/cmd/kubeseal"
)
