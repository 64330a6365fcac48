package sandbox

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// LockName is the lock file inside the sandbox folder. Whoever holds an exclusive
// flock on it owns the sandbox state from reading it to saving it; the file holds the
// holder's pid so that a waiting run can name it.
const LockName = "sandbox.lock"

// DefaultWait is how long Open waits for another enrolctl to release the sandbox.
const DefaultWait = 30 * time.Second

// lockPoll is how often a waiting run retries the lock.
const lockPoll = 50 * time.Millisecond

// lock is a held sandbox lock.
type lock struct{ f *os.File }

// acquire takes the sandbox lock in dir, waiting up to wait for another holder to
// release it. The kernel releases a flock when its holder exits, so a crashed run
// never leaves the sandbox locked.
// waiting, when not nil, is told once, naming the holder, when the lock is busy.
func acquire(dir string, wait time.Duration, waiting func(holder string)) (*lock, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("sandbox: %w", err)
	}
	path := filepath.Join(dir, LockName)
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, fmt.Errorf("sandbox: %w", err)
	}
	deadline := time.Now().Add(wait)
	for {
		busy, err := tryLock(f)
		if err != nil {
			f.Close()
			return nil, fmt.Errorf("sandbox: locking %s: %w", path, err)
		}
		if !busy {
			break
		}
		if waiting != nil {
			waiting(holderOf(path))
			waiting = nil
		}
		if !time.Now().Before(deadline) {
			holder := holderOf(path)
			f.Close()
			return nil, fmt.Errorf("sandbox: %s is in use by %s; gave up after waiting %s (try again when it has finished)", filepath.Join(dir, FileName), holder, wait)
		}
		time.Sleep(lockPoll)
	}
	// Record who holds the lock; a waiting run reads it for its message.
	if err := f.Truncate(0); err == nil {
		_, _ = f.WriteAt([]byte(strconv.Itoa(os.Getpid())+"\n"), 0)
	}
	return &lock{f: f}, nil
}

// holderOf names the process holding the lock, from the pid it wrote.
func holderOf(path string) string {
	b, err := os.ReadFile(path)
	if pid, convErr := strconv.Atoi(strings.TrimSpace(string(b))); err == nil && convErr == nil && pid > 0 {
		return fmt.Sprintf("another enrolctl (pid %d)", pid)
	}
	return "another enrolctl"
}

// release gives the lock up. Releasing twice is harmless.
func (l *lock) release() error {
	if l == nil || l.f == nil {
		return nil
	}
	f := l.f
	l.f = nil
	// Closing the descriptor drops the flock; the pid is left behind, harmless, as the
	// next holder overwrites it and a waiter only reads it while the lock is held.
	return f.Close()
}
