package sandbox

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"

	"github.com/enrolctl/enrolctl/internal/moodlesim"
)

// URL is the sandbox's wwwroot. It is never dialled: requests are served in-process.
const URL = "http://127.0.0.1/sandbox"

// Token is the sandbox's web-service token. It is not a secret: the sandbox is local.
const Token = "sandbox"

// FileName is the state file inside the sandbox folder.
const FileName = "sandbox.json"

// Sandbox is an open sandbox Moodle.
type Sandbox struct {
	path string
	sim  *moodlesim.Sim
	// Seeded is true when the state was created from the demo site in this run.
	Seeded bool
}

// Open loads the sandbox state from dir (usually .enrolctl), seeding the demo site when
// there is none yet.
func Open(dir string) (*Sandbox, error) {
	path := filepath.Join(dir, FileName)
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

func demo() *moodlesim.Sim {
	sim := moodlesim.DemoSite()
	sim.AddToken(Token, "enrolctl", "admin")
	return sim
}

// Sim is the in-memory Moodle behind the sandbox.
func (s *Sandbox) Sim() *moodlesim.Sim { return s.sim }

// Path is the state file.
func (s *Sandbox) Path() string { return s.path }

// HTTPClient returns a client whose requests are served by the sandbox in-process.
func (s *Sandbox) HTTPClient() *http.Client {
	return &http.Client{Transport: handlerTransport{s.sim.Handler()}}
}

// Save writes the sandbox state to its file.
func (s *Sandbox) Save() error {
	var buf bytes.Buffer
	if err := s.sim.Save(&buf); err != nil {
		return fmt.Errorf("sandbox: %w", err)
	}
	if err := os.MkdirAll(filepath.Dir(s.path), 0o755); err != nil {
		return fmt.Errorf("sandbox: %w", err)
	}
	tmp := s.path + ".tmp"
	if err := os.WriteFile(tmp, buf.Bytes(), 0o644); err != nil {
		return fmt.Errorf("sandbox: %w", err)
	}
	return os.Rename(tmp, s.path)
}

// Reset replaces the sandbox state in dir with a fresh demo site.
func Reset(dir string) (*Sandbox, error) {
	s := &Sandbox{path: filepath.Join(dir, FileName), sim: demo(), Seeded: true}
	return s, s.Save()
}

// handlerTransport serves requests with an http.Handler in-process.
type handlerTransport struct{ h http.Handler }

func (t handlerTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if err := req.Context().Err(); err != nil {
		return nil, err
	}
	rec := httptest.NewRecorder()
	t.h.ServeHTTP(rec, req)
	return rec.Result(), nil
}
