//go:build !linux

package cli

import "testing"

// The whole-command benchmarks measure a Linux process (its peak resident size and
// CPU time from rusage and /proc): bench_command_test.go. Elsewhere the tests run
// without them.

func benchChild() bool { return false }

type benchCleanup struct{ *testing.M }
