package spec

import (
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// diskTree writes a spec folder with what the fast disk reader must get exactly as the
// careful fs.FS reader does: shared HCL variables, errors, hidden and configuration
// files, other files, nested folders, and names whose walk order is not their sort
// order ("a-b.yaml" walks after "a/" but sorts before "a/x.yaml").
func diskTree(t *testing.T, dir string) {
	t.Helper()
	files := map[string]string{
		"variables.hcl":        "variables {\n  term_end = \"2027-06-30\"\n}\n",
		"enrolctl.yaml":        "sites: {}\n",
		"README.md":            "not a spec\n",
		".hidden.yaml":         "course: HIDDEN\n",
		".git/x.yaml":          "course: GIT\n",
		"a-b.yaml":             "course: AB\nmanual:\n  users:\n    - username: u1\n",
		"a/x.yaml":             "course: AX\nmanaul:\n  users: []\n",
		"a/y.yml":              "course: AY\nmethods:\n  - type: cohort\n    cohort: C1\n",
		"a/deep/er/z.yaml":     "course: AB\n",
		"a/deep/bad.yaml":      "course: [\n",
		"a/deep/empty.yaml":    "",
		"b/prog.hcl":           "course \"PROG\" {\n  manual {\n    until = var.term_end\n    user \"u2\" {}\n  }\n}\n",
		"b/policy.yaml":        "policy: all\ncourses:\n  category: Ecampus\nmanual:\n  prune: suspend\n",
		"b/sub/enrolctl.yaml":  "course: NOTCONFIG\n",
		"c/users.yaml":         "course: USERS\nmanual:\n  role: student\n  users:\n    - username: u3\n      groups: [TD1]\n    - username: U4\ngroups: [TD1]\n",
		"d/nothing/README.txt": "x\n",
	}
	for name, src := range files {
		write(t, dir, name, src)
	}
}

// setDump is everything a load returns, unexported fields included.
func setDump(t *testing.T, s *Set) string {
	t.Helper()
	return cmp.Diff(&Set{}, s, cmp.Exporter(func(reflect.Type) bool { return true }))
}

// The disk reader and the careful fs.FS reader give the same Set, for each way the
// CLI names a spec folder.
func TestDiskLoadMatchesFSLoad(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("no disk reader on Windows")
	}
	top := t.TempDir()
	specs := filepath.Join(top, "specs")
	diskTree(t, specs)
	opts := Options{Location: paris, Roles: []string{"tutor"}}
	cases := []struct {
		name      string
		dir, root string
		display   func(string) string
	}{
		{"LoadDir", specs, ".", func(p string) string { return filepath.Join(specs, filepath.FromSlash(p)) }},
		{"Load below the working folder", top, "specs", func(p string) string { return p }},
		{"testdata site", filepath.Join("testdata", "site"), ".", func(p string) string { return p }},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			want := loadFS(hideType{os.DirFS(c.dir).(dirFS)}, c.root, opts, c.display)
			got, ok := loadDisk(c.dir, c.root, opts, c.display)
			if !ok {
				t.Fatal("the disk reader declined a folder of plain files")
			}
			if d := cmp.Diff(want, got, cmp.Exporter(func(reflect.Type) bool { return true })); d != "" {
				t.Errorf("disk reader differs (-fs +disk):\n%s", d)
			}
			if len(got.Courses) == 0 || len(got.Files) < 3 || !strings.HasPrefix(got.Digest, "sha256:") {
				t.Errorf("little was read: %s", setDump(t, got))
			}
			// load picks the disk reader for an os.DirFS, and gets the same.
			if d := cmp.Diff(want, load(os.DirFS(c.dir), c.root, opts, c.display), cmp.Exporter(func(reflect.Type) bool { return true })); d != "" {
				t.Errorf("load differs (-fs +load):\n%s", d)
			}
		})
	}
}

// hideType hides an os.DirFS from osDir, keeping its methods, so that load reads it
// the careful way.
type hideType struct{ dirFS }

type dirFS interface {
	fs.StatFS
	fs.ReadDirFS
	fs.ReadFileFS
	fs.ReadLinkFS
}

// The disk reader leaves to the careful reader every folder it cannot read plainly
// (links, FIFOs, files over the cap, a linked spec folder), whose messages stay exact.
func TestDiskLoadDeclines(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("no disk reader on Windows")
	}
	cases := map[string]func(t *testing.T, dir string){
		"link to a file": func(t *testing.T, dir string) {
			symlink(t, "ok.yaml", filepath.Join(dir, "sub", "link.yaml"))
		},
		"link to a folder": func(t *testing.T, dir string) { symlink(t, "sub", filepath.Join(dir, "other")) },
		"FIFO": func(t *testing.T, dir string) {
			if err := mkfifo(filepath.Join(dir, "sub", "pipe.yaml"), 0o644); err != nil {
				t.Skipf("no FIFOs here: %v", err)
			}
		},
		"file over the cap": func(t *testing.T, dir string) {
			write(t, dir, "sub/big.yaml", strings.Repeat("#\n", MaxFileSize/2+1))
		},
	}
	for name, mk := range cases {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			write(t, dir, "ok.yaml", "course: A\n")
			write(t, dir, "sub/b.yaml", "course: B\n")
			mk(t, dir)
			if _, ok := loadDisk(dir, ".", Options{}, func(p string) string { return p }); ok {
				t.Fatal("the disk reader read a folder it should leave to the careful reader")
			}
		})
	}
	t.Run("linked spec folder", func(t *testing.T) {
		top := t.TempDir()
		write(t, top, "real/ok.yaml", "course: A\n")
		symlink(t, "real", filepath.Join(top, "specs"))
		if _, ok := loadDisk(top, "specs", Options{}, func(p string) string { return p }); ok {
			t.Fatal("the disk reader followed a linked spec folder")
		}
		// The careful reader refuses its files, as before.
		set := Load(os.DirFS(top), "specs", Options{})
		wantDiag(t, set, `specs/ok.yaml: cannot read: a link to "real", outside the spec folder`)
	})
}

func symlink(t *testing.T, target, name string) {
	t.Helper()
	if err := os.Symlink(target, name); err != nil {
		t.Fatal(err)
	}
}
