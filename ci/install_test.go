package ci_test

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"

	"github.com/enrolctl/enrolctl/internal/cli"
)

// TestMain makes this test binary enrolctl when it runs under that name: the archives
// the tests serve hold a copy of it, so that what install.sh installs really runs
// enrolctl's code without a build of its own.
func TestMain(m *testing.M) {
	if filepath.Base(os.Args[0]) == "enrolctl" {
		os.Exit(cli.Main(os.Args[1:], cli.StdStreams()))
	}
	os.Exit(m.Run())
}

// release is a set of release files served at /vVERSION/NAME, as GitHub serves a
// release's assets.
type release struct {
	version string
	files   map[string][]byte
	mu      sync.Mutex
	got     []string
}

func (r *release) serve(t *testing.T) string {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		r.mu.Lock()
		r.got = append(r.got, req.URL.Path)
		r.mu.Unlock()
		name, ok := strings.CutPrefix(req.URL.Path, "/v"+r.version+"/")
		data, found := r.files[name]
		if !ok || !found {
			http.NotFound(w, req)
			return
		}
		w.Write(data)
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

// snapshotRelease is what a GoReleaser snapshot holds for this platform: the archive
// of .goreleaser.yaml's name_template and SHA256SUMS. With ENROLCTL_DIST set to a
// snapshot's dist/ folder, its real files are served instead.
func snapshotRelease(t *testing.T) *release {
	built.once.Do(func() { built.r, built.err = makeRelease() })
	if built.err != nil {
		t.Fatal(built.err)
	}
	if built.r == nil {
		t.Skipf("install.sh is for Linux and macOS, not %s", runtime.GOOS)
	}
	// A copy: a test may change its files.
	return &release{version: built.r.version, files: maps.Clone(built.r.files)}
}

// built is made once: archiving the test binary is the slow part.
var built struct {
	once sync.Once
	r    *release
	err  error
}

func makeRelease() (*release, error) {
	if runtime.GOOS != "linux" && runtime.GOOS != "darwin" {
		return nil, nil
	}
	if dist := os.Getenv("ENROLCTL_DIST"); dist != "" {
		return distRelease(dist)
	}
	self, err := os.Executable()
	if err != nil {
		return nil, err
	}
	bin, err := os.ReadFile(self)
	if err != nil {
		return nil, err
	}
	const version = "0.0.0-test"
	name := fmt.Sprintf("enrolctl_%s_%s_%s.tar.gz", version, runtime.GOOS, runtime.GOARCH)
	archive, err := tarGz(map[string][]byte{"enrolctl": bin, "LICENSE": []byte("GPL-3.0-or-later\n")})
	if err != nil {
		return nil, err
	}
	sums := fmt.Sprintf("%s  %s\n%s  local_enrolctl-2.1.0.zip\n", sha256hex(archive), name, sha256hex([]byte("zip")))
	return &release{version: version, files: map[string][]byte{name: archive, "SHA256SUMS": []byte(sums)}}, nil
}

func distRelease(dist string) (*release, error) {
	var meta struct {
		Version string `json:"version"`
	}
	data, err := os.ReadFile(filepath.Join(dist, "metadata.json"))
	if err == nil {
		err = json.Unmarshal(data, &meta)
	}
	if err != nil {
		return nil, fmt.Errorf("ENROLCTL_DIST: %v", err)
	}
	r := &release{version: meta.Version, files: map[string][]byte{}}
	entries, err := os.ReadDir(dist)
	if err != nil {
		return nil, err
	}
	for _, e := range entries {
		if !e.IsDir() {
			if r.files[e.Name()], err = os.ReadFile(filepath.Join(dist, e.Name())); err != nil {
				return nil, err
			}
		}
	}
	return r, nil
}

func tarGz(files map[string][]byte) ([]byte, error) {
	var buf bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&buf, gzip.BestSpeed)
	tw := tar.NewWriter(zw)
	for name, data := range files {
		if err := tw.WriteHeader(&tar.Header{Name: name, Mode: 0o755, Size: int64(len(data)), Typeflag: tar.TypeReg}); err != nil {
			return nil, err
		}
		if _, err := tw.Write(data); err != nil {
			return nil, err
		}
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	err := zw.Close()
	return buf.Bytes(), err
}

func sha256hex(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// install runs ci/install.sh VERSION DIR with sh against baseURL and returns its exit
// code and output.
func install(t *testing.T, baseURL, version, dir string) (int, string) {
	cmd := exec.Command("sh", "install.sh", version, dir)
	cmd.Env = append(os.Environ(), "ENROLCTL_BASE_URL="+baseURL, "HOME="+t.TempDir())
	out, err := cmd.CombinedOutput()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return code, string(out)
}

func TestInstallVerifiesAndInstalls(t *testing.T) {
	r := snapshotRelease(t)
	dir := filepath.Join(t.TempDir(), "bin")
	code, out := install(t, r.serve(t), "v"+r.version, dir)
	if code != 0 {
		t.Fatalf("install.sh exited %d:\n%s", code, out)
	}
	if !strings.Contains(out, "Installed enrolctl "+r.version) || !strings.Contains(out, "SHA-256 verified") {
		t.Errorf("install.sh said:\n%s", out)
	}
	got, err := exec.Command(filepath.Join(dir, "enrolctl"), "version", "-o", "json").Output()
	if err != nil {
		t.Fatalf("the installed enrolctl: %v", err)
	}
	var v struct {
		Version    string `json:"version"`
		PlanFormat string `json:"plan_format"`
	}
	if err := json.Unmarshal(got, &v); err != nil || v.PlanFormat == "" {
		t.Fatalf("the installed enrolctl's version -o json: %v\n%s", err, got)
	}
	t.Logf("installed enrolctl reports version %s", v.Version)
	if entries, _ := os.ReadDir(dir); len(entries) != 1 {
		t.Errorf("%s holds %d files, want enrolctl alone", dir, len(entries))
	}
	// It asked for nothing but the checksums and the archive of this platform.
	want := []string{"/v" + r.version + "/SHA256SUMS", fmt.Sprintf("/v%s/enrolctl_%s_%s_%s.tar.gz", r.version, r.version, runtime.GOOS, runtime.GOARCH)}
	if strings.Join(r.got, " ") != strings.Join(want, " ") {
		t.Errorf("requests %v, want %v", r.got, want)
	}
}

// A wrong or missing checksum, or a missing release, installs nothing.
func TestInstallRefuses(t *testing.T) {
	archiveName := func(r *release) string {
		return fmt.Sprintf("enrolctl_%s_%s_%s.tar.gz", r.version, runtime.GOOS, runtime.GOARCH)
	}
	for _, tc := range []struct {
		name   string
		change func(r *release)
		say    string
	}{
		{"archive changed after the checksums", func(r *release) {
			a := archiveName(r)
			r.files[a] = append(bytes.Clone(r.files[a]), 0)
		}, "but SHA256SUMS says"},
		{"checksum line changed", func(r *release) {
			sum := sha256hex(r.files[archiveName(r)])
			r.files["SHA256SUMS"] = bytes.ReplaceAll(r.files["SHA256SUMS"], []byte(sum), []byte(strings.Repeat("0", 64)))
		}, "but SHA256SUMS says " + strings.Repeat("0", 64)},
		{"archive not in SHA256SUMS", func(r *release) {
			var kept []string
			for l := range strings.SplitSeq(string(r.files["SHA256SUMS"]), "\n") {
				if !strings.HasSuffix(l, archiveName(r)) {
					kept = append(kept, l)
				}
			}
			r.files["SHA256SUMS"] = []byte(strings.Join(kept, "\n"))
		}, "lists no " + "enrolctl_"},
		{"no such release", func(r *release) { r.version += "-missing" }, "could not download"},
		{"no SHA256SUMS", func(r *release) { delete(r.files, "SHA256SUMS") }, "could not download"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := snapshotRelease(t)
			version := r.version
			tc.change(r)
			dir := filepath.Join(t.TempDir(), "bin")
			code, out := install(t, r.serve(t), version, dir)
			if code == 0 {
				t.Fatalf("install.sh exited 0:\n%s", out)
			}
			if !strings.Contains(out, tc.say) {
				t.Errorf("install.sh said %q, want %q", out, tc.say)
			}
			if entries, err := os.ReadDir(dir); err == nil && len(entries) > 0 {
				t.Errorf("%s holds %v after a refusal", dir, entries)
			}
		})
	}
}
