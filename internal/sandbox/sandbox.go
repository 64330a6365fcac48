package sandbox

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"github.com/enrolctl/enrolctl/internal/moodlesim"
	"github.com/enrolctl/enrolctl/internal/safefile"
)

// URL is the sandbox's wwwroot. It is never dialled: requests are served in-process.
const URL = "http://127.0.0.1/sandbox"

// Token is the sandbox's web-service token. It is not a secret: the sandbox is local.
const Token = "sandbox"

// FileName is the state file inside the sandbox folder.
const FileName = "sandbox.json"

// Sandbox is an open sandbox Moodle. It holds the sandbox lock from Open to Close, so
// that two runs never work from the same state and the later save loses the other's
// changes.
type Sandbox struct {
	path string
	sim  *moodlesim.Sim
	lock *lock
	// Seeded is true when the state was created from the demo site in this run.
	Seeded bool
}

// Open locks the sandbox in dir (usually .enrolctl), waiting up to DefaultWait for
// another run to finish, and loads its state, seeding the demo site when there is none
// yet. Close releases it.
func Open(dir string) (*Sandbox, error) {
	return OpenWait(dir, DefaultWait, nil)
}

// OpenWait is Open with another wait for the lock; past it, the error names the pid of
// the run that holds the sandbox. waiting, when not nil, is told when the wait starts
// (the CLI says so rather than hang silently).
func OpenWait(dir string, wait time.Duration, waiting func(holder string)) (*Sandbox, error) {
	l, err := acquire(dir, wait, waiting)
	if err != nil {
		return nil, err
	}
	removeStaleTemporaries(dir)
	s, err := load(filepath.Join(dir, FileName))
	if err != nil {
		l.release()
		return nil, err
	}
	s.lock = l
	return s, nil
}

// removeStaleTemporaries deletes the temporary files of saves that were killed before
// their rename. Only the lock holder saves, so under the lock every one is stale.
func removeStaleTemporaries(dir string) {
	stale, _ := filepath.Glob(filepath.Join(dir, FileName+".*.tmp"))
	for _, p := range stale {
		os.Remove(p)
	}
}

func load(path string) (*Sandbox, error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return &Sandbox{path: path, sim: demo(), Seeded: true}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("sandbox: %w", err)
	}
	sim, err := moodlesim.Load(bytes.NewReader(data))
	if err != nil {
		return nil, fmt.Errorf("sandbox: %s is damaged (%v); run `enrolctl sandbox reset`", path, err)
	}
	sim.AddToken(Token, "enrolctl", "admin")
	return &Sandbox{path: path, sim: sim}, nil
}

// Close releases the sandbox lock. The state is not saved: call Save first.
func (s *Sandbox) Close() error { return s.lock.release() }

func demo() *moodlesim.Sim {
	sim := moodlesim.DemoSite()
	sim.AddToken(Token, "enrolctl", "admin")
	return sim
}

// Path is the state file.
func (s *Sandbox) Path() string { return s.path }

// HTTPClient returns a client whose requests are served by the sandbox in-process.
func (s *Sandbox) HTTPClient() *http.Client {
	return &http.Client{Transport: handlerTransport{s.sim.Handler()}}
}

// Save writes the sandbox state to its file: to a temporary file of a unique name in
// the same folder, then renamed over the state, so a reader sees the old state or the
// new one, never half of one. The encoder's text goes to the file without a further
// copy in a buffer, which was 3 MB (8 MB allocated) more at the peak of a sandbox apply.
func (s *Sandbox) Save() error { return writeAtomic(s.path, s.sim.Save) }

func writeAtomic(path string, write func(io.Writer) error) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return fmt.Errorf("sandbox: %w", err)
	}
	if err := safefile.WriteAtomic(path, 0o644, true, write); err != nil {
		return fmt.Errorf("sandbox: %w", err)
	}
	return nil
}

// Reset replaces the sandbox state in dir with a fresh demo site, under the lock.
func Reset(dir string) (*Sandbox, error) {
	l, err := acquire(dir, DefaultWait, nil)
	if err != nil {
		return nil, err
	}
	defer l.release()
	s := &Sandbox{path: filepath.Join(dir, FileName), sim: demo(), Seeded: true}
	return s, s.Save()
}

// handlerTransport serves requests with an http.Handler in-process. The answer
// streams to the reader through a pipe, as over a connection: a recorder held it
// whole, a second copy of the largest answer (the demo's course rows, 300 KB) at a
// sandbox plan's peak.
type handlerTransport struct{ h http.Handler }

func (t handlerTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if err := req.Context().Err(); err != nil {
		return nil, err
	}
	body, pw := io.Pipe()
	w := &pipeWriter{header: http.Header{}, body: pw, sent: make(chan struct{})}
	go func() {
		t.h.ServeHTTP(w, req)
		w.WriteHeader(http.StatusOK) // a handler that wrote nothing answered 200
		pw.Close()
	}()
	<-w.sent
	return &http.Response{Status: fmt.Sprintf("%03d %s", w.code, http.StatusText(w.code)), StatusCode: w.code,
		Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1, Header: w.sentHeader, Body: body, ContentLength: -1, Request: req}, nil
}

// pipeWriter is the handler's side: the status and headers go to RoundTrip at the
// first WriteHeader or Write (closing sent), the body into the pipe.
type pipeWriter struct {
	header, sentHeader http.Header
	body               *io.PipeWriter
	code               int
	sent               chan struct{}
}

func (w *pipeWriter) Header() http.Header { return w.header }

func (w *pipeWriter) WriteHeader(code int) {
	if w.code != 0 {
		return
	}
	w.code, w.sentHeader = code, w.header.Clone()
	close(w.sent)
}

func (w *pipeWriter) Write(b []byte) (int, error) {
	w.WriteHeader(http.StatusOK)
	return w.body.Write(b)
}
