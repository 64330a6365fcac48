//go:build unix

package apply

import (
	"errors"
	"syscall"
)

// processGone says whether no process pid runs here (signal 0 finds none).
func processGone(pid int) bool {
	return errors.Is(syscall.Kill(pid, 0), syscall.ESRCH)
}
