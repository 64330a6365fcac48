package spec

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// A spec file linked to a file outside the spec folder was read and its lines echoed (a
// git credential line appeared in stderr and in a plan). Links out of the folder are
// refused without reading the target; links inside it are read.
func TestLinksStayInsideTheSpecFolder(t *testing.T) {
	top := t.TempDir()
	outside := filepath.Join(top, "outside")
	specs := filepath.Join(top, "specs")
	// Read, this would be a course named after the secret, and a diagnostic quoting it.
	secret := "course: SECRET-LINE\nbad: https://user:SECRET-LINE@git.example\n"
	write(t, outside, "secret.yaml", secret)
	write(t, specs, "ok.yaml", "course: A\n")
	write(t, specs, "inner/b.yaml", "course: B\n")
	links := map[string]string{
		"relative.yaml":      "../outside/secret.yaml",
		"absolute.yaml":      filepath.Join(outside, "secret.yaml"),
		"viadir":             "../outside",         // a folder out: said, not walked
		"chain.yaml":         "viadir/secret.yaml", // inside at first, out through viadir
		"inner/up.yaml":      "../../outside/secret.yaml",
		"alias.yaml":         "inner/b.yaml", // inside: read
		"inner/sibling.yaml": "../ok.yaml",   // inside: read
		"innerdir":           "inner",        // a folder inside: not walked, no error
	}
	for name, target := range links {
		if err := os.Symlink(target, filepath.Join(specs, name)); err != nil {
			t.Fatal(err)
		}
	}
	set := loadWithin(t, specs)
	got := strings.Join(diagStrings(set.Diagnostics), "\n")
	if strings.Contains(got, "SECRET-LINE") {
		t.Fatalf("the target of a link out of the folder was read:\n%s", got)
	}
	for _, c := range set.Courses {
		if c.Shortname == "SECRET-LINE" {
			t.Fatalf("a course was read through a link out of the folder: %s", c.File)
		}
	}
	wantDiag(t, set,
		filepath.Join(specs, "relative.yaml")+`: cannot read: a link to "../outside/secret.yaml", outside the spec folder; spec files and folders must be inside it`,
		filepath.Join(specs, "absolute.yaml")+`: cannot read: a link to "`+filepath.Join(outside, "secret.yaml")+`", outside the spec folder`,
		filepath.Join(specs, "chain.yaml")+`: cannot read: a link to "viadir/secret.yaml", outside the spec folder`,
		filepath.Join(specs, "inner", "up.yaml")+`: cannot read: a link to "../../outside/secret.yaml", outside the spec folder`,
		filepath.Join(specs, "viadir")+`: not read: a link to "../outside", outside the spec folder`,
		// Links inside are read like their targets (and so declare A and B twice).
		`course "A" is declared in two places`,
		`course "B" is declared in two places`,
	)
	if strings.Contains(got, "innerdir") {
		t.Errorf("a link to a folder inside was reported:\n%s", got)
	}
	if n := len(set.Diagnostics.Errors()); n != 7 {
		t.Errorf("%d errors, want 7:\n%s", n, got)
	}
}

// The spec folder itself may be a link (specs -> site/specs): only what is below it
// counts.
func TestSpecFolderMayBeALink(t *testing.T) {
	top := t.TempDir()
	write(t, top, "real/a.yaml", "course: A\n")
	if err := os.Symlink("real", filepath.Join(top, "specs")); err != nil {
		t.Fatal(err)
	}
	set := loadWithin(t, filepath.Join(top, "specs"))
	if set.Diagnostics.HasErrors() || len(set.Courses) != 1 {
		t.Fatalf("courses %d, diagnostics:\n%s", len(set.Courses), strings.Join(diagStrings(set.Diagnostics), "\n"))
	}
}

// lstatCounter counts the Lstat calls made through it, per path.
type lstatCounter struct {
	fs.ReadLinkFS
	calls map[string]int
}

func (c lstatCounter) Lstat(name string) (fs.FileInfo, error) {
	c.calls[name]++
	return c.ReadLinkFS.Lstat(name)
}

// The link check looks at each folder once per load, not once per file in it: 10,000
// files made it a seventh of validate's CPU. Each file is still looked at itself, and a
// folder link met later is still followed.
func TestLinkCheckLooksAtEachFolderOnce(t *testing.T) {
	top := t.TempDir()
	for i := range 5 {
		write(t, top, fmt.Sprintf("specs/ue/c%d.yaml", i), fmt.Sprintf("course: C%d\n", i))
	}
	write(t, top, "outside/secret.yaml", "course: SECRET\n")
	if err := os.Symlink("../../outside/secret.yaml", filepath.Join(top, "specs", "ue", "z.yaml")); err != nil {
		t.Fatal(err)
	}
	fsys := lstatCounter{os.DirFS(top).(fs.ReadLinkFS), map[string]int{}}
	set := Load(fsys, "specs", Options{})
	if len(set.Courses) != 5 {
		t.Fatalf("read %d courses, want 5: %v", len(set.Courses), diagStrings(set.Diagnostics))
	}
	for _, folder := range []string{"specs", "specs/ue"} {
		if n := fsys.calls[folder]; n != 1 {
			t.Errorf("Lstat(%s) %d times, want once", folder, n)
		}
	}
	if n := fsys.calls["specs/ue/c3.yaml"]; n != 1 {
		t.Errorf("Lstat of a file %d times, want once", n)
	}
	wantDiag(t, set, `z.yaml: cannot read: a link to "../../outside/secret.yaml", outside the spec folder`)
}
