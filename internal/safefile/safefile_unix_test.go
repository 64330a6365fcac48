//go:build unix

// Named pipes and /dev/zero are Unix files.

package safefile

import (
	"errors"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

// Each case names a file that must be refused before it is read, quickly: a FIFO with
// no writer (opening it would block for ever), /dev/zero through a symlink (reading it
// never ends), a folder, and a file over the cap.
func TestRefusesWhatIsNotAPlainFile(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "enrolctl.yaml")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Skipf("no FIFOs here: %v", err)
	}
	zero := filepath.Join(dir, "token")
	if err := os.Symlink("/dev/zero", zero); err != nil {
		t.Fatal(err)
	}
	big := filepath.Join(dir, "plan.json")
	if err := os.WriteFile(big, make([]byte, 2048), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		path, want string
	}{
		{fifo, "not a regular file (a named pipe); a test file must be a plain file"},
		{zero, "not a regular file (a character device); a test file must be a plain file"},
		{dir, "not a regular file (a folder); a test file must be a plain file"},
		{big, "file is 0.0 MiB; a test file may be at most 0.0 MiB"},
	}
	for _, tt := range tests {
		for name, read := range map[string]func(string) error{
			"Read": func(p string) error { _, err := Read(p, 1024, "test file"); return err },
			"Open": func(p string) error {
				f, err := Open(p, 1024, "test file")
				if err == nil {
					f.Close()
				}
				return err
			},
		} {
			done := make(chan error, 1)
			go func() { done <- read(tt.path) }()
			select {
			case err := <-done:
				if err == nil || err.Error() != tt.want {
					t.Errorf("%s(%s) = %v, want %q", name, filepath.Base(tt.path), err, tt.want)
				}
			case <-time.After(5 * time.Second):
				t.Fatalf("%s(%s) still blocked after 5 s", name, filepath.Base(tt.path))
			}
		}
	}
	_, err := Read(big, 1024, "test file")
	var tooLarge *TooLargeError
	if !errors.As(err, &tooLarge) || tooLarge.Size != 2048 {
		t.Errorf("Read(big) = %v, want a TooLargeError of 2048 bytes", err)
	}
}
