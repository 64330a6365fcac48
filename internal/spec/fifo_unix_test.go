//go:build unix

package spec

import "syscall"

// mkfifo makes a named pipe, which the tests use as a spec file that would block a
// reader opening it.
func mkfifo(path string, mode uint32) error { return syscall.Mkfifo(path, mode) }
