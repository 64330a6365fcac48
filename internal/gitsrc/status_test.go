package gitsrc

import (
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing/object"
	"github.com/google/go-cmp/cmp"
)

// statusOfFolder is what ChangedFiles was before changedUnder: go-git's Status of the
// whole working tree, kept for the folder's files. The oracle.
func statusOfFolder(t *testing.T, repo *git.Repository, prefix string) []string {
	t.Helper()
	wt, err := repo.Worktree()
	if err != nil {
		t.Fatal(err)
	}
	st, err := wt.Status()
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for p, s := range st {
		if (s.Worktree != git.Unmodified || s.Staging != git.Unmodified) && strings.HasPrefix(p, prefix+"/") {
			out = append(out, p)
		}
	}
	slices.Sort(out)
	return out
}

// ChangedFiles of a folder lists what go-git's Status of the whole working tree lists
// under it, through random edits, deletions, staging and commits, with ignore files in
// the folder, above it, below it and beside it.
func TestChangedFilesIsStatusOfTheFolder(t *testing.T) {
	files := []string{
		"README", ".gitignore", "other/e.yaml", "specsx/f.yaml",
		"specs/.gitignore", "specs/a.yaml", "specs/x.tmp", "specs/l1/.gitignore", "specs/l1/b.yaml",
		"specs/l1/c.hcl", "specs/l2/d.yaml", "specs/tmp/g.yaml", "specs/l2/deep/h.yaml",
	}
	patterns := []string{"*.tmp", "tmp/", "c.hcl", "!c.hcl", "/specs/l2", "*.hcl", "f.yaml", "l1/", "deep", "specs/a.yaml", "# comment"}
	author := &object.Signature{Name: "t", Email: "t@x", When: time.Unix(0, 0)}
	checks, changed := 0, 0
	for run := range 30 {
		r := rand.New(rand.NewPCG(uint64(run), 7))
		root, repo, wt := newRepo(t)
		for step := range 14 {
			name := files[r.IntN(len(files))]
			full := filepath.Join(root, filepath.FromSlash(name))
			var did string
			switch op := r.IntN(10); {
			case op < 4:
				text := fmt.Sprintf("course: C%d\n", r.IntN(3))
				if strings.HasSuffix(name, ".gitignore") {
					text = patterns[r.IntN(len(patterns))] + "\n" + patterns[r.IntN(len(patterns))] + "\n"
				}
				writeFile(t, root, name, text)
				did = "write " + name
			case op < 5:
				os.Remove(full)
				did = "remove " + name
			case op < 8:
				wt.Add(name) // may refuse an ignored or missing file, as git does
				did = "add " + name
			default:
				if err := wt.AddWithOptions(&git.AddOptions{All: true}); err == nil {
					wt.Commit(fmt.Sprintf("step %d", step), &git.CommitOptions{Author: author, AllowEmptyCommits: true})
				}
				did = "commit"
			}
			got, err := ChangedFiles(filepath.Join(root, "specs"))
			if err != nil {
				t.Fatalf("run %d step %d (%s): %v", run, step, did, err)
			}
			if d := cmp.Diff(statusOfFolder(t, repo, "specs"), got); d != "" {
				t.Fatalf("run %d step %d (%s): ChangedFiles (-Status +now):\n%s", run, step, did, d)
			}
			checks++
			if len(got) > 0 {
				changed++
			}
		}
	}
	t.Logf("%d states compared, %d with changes in the folder", checks, changed)
	if changed < checks/4 || changed == checks {
		t.Fatalf("%d of %d states with changes: the walk does not cover both cases", changed, checks)
	}
}

// A spec folder gone from the disk: its files are listed as deleted, as Status does.
func TestChangedFilesOfARemovedFolder(t *testing.T) {
	root, _, wt := newRepo(t)
	writeFile(t, root, "specs/l1/a.yaml", "course: A\n")
	wt.Add("specs/l1/a.yaml")
	if _, err := wt.Commit("a", &git.CommitOptions{Author: &object.Signature{Name: "t", Email: "t@x", When: time.Unix(0, 0)}}); err != nil {
		t.Fatal(err)
	}
	if err := os.RemoveAll(filepath.Join(root, "specs")); err != nil {
		t.Fatal(err)
	}
	if got, err := ChangedFiles(filepath.Join(root, "specs")); err != nil || !slices.Equal(got, []string{"specs/l1/a.yaml"}) {
		t.Errorf("ChangedFiles = %q, %v; want the folder's file", got, err)
	}
}

// newRepo is an empty repository in a folder of the test's, read with no user's or
// system's git configuration (whose excludes would hide files from ChangedFiles).
func newRepo(t *testing.T) (string, *git.Repository, *git.Worktree) {
	t.Helper()
	home := t.TempDir()
	for _, name := range []string{"HOME", "USERPROFILE", "XDG_CONFIG_HOME"} {
		t.Setenv(name, home)
	}
	t.Setenv("GIT_CONFIG_NOSYSTEM", "1")
	t.Setenv("GIT_CONFIG_GLOBAL", "") // restored after the test, unset during it
	os.Unsetenv("GIT_CONFIG_GLOBAL")
	root := t.TempDir()
	repo, err := git.PlainInit(root, false)
	if err != nil {
		t.Fatal(err)
	}
	wt, err := repo.Worktree()
	if err != nil {
		t.Fatal(err)
	}
	return root, repo, wt
}

// writeFile writes text to the file name (slash-separated) below root, making its folders.
func writeFile(t *testing.T, root, name, text string) {
	t.Helper()
	full := filepath.Join(root, filepath.FromSlash(name))
	if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(full, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
}

// Files that the user's excludes file or the repository's info/exclude ignore are not
// changes, in the spec folder and at the root, as `git status` says (checked against
// git itself where it is installed).
func TestChangedFilesHonourGitsExcludes(t *testing.T) {
	for _, tc := range []struct{ name, gitconfig, excludesFile string }{
		{"core.excludesFile", "[core]\n\texcludesFile = ~/global-ignore\n", "global-ignore"},
		{"XDG default", "", "git/ignore"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			root, _, wt := newRepo(t)
			home := os.Getenv("HOME")
			if tc.gitconfig != "" {
				writeFile(t, home, ".gitconfig", tc.gitconfig)
			}
			writeFile(t, home, tc.excludesFile, ".DS_Store\n")
			writeFile(t, root, ".git/info/exclude", "# mine\n*.swp\n")
			for _, name := range []string{"a.yaml", "specs/a.yaml"} {
				writeFile(t, root, name, "course: A\n")
				wt.Add(name)
			}
			if _, err := wt.Commit("a", &git.CommitOptions{Author: &object.Signature{Name: "t", Email: "t@x", When: time.Unix(0, 0)}}); err != nil {
				t.Fatal(err)
			}
			for _, name := range []string{".DS_Store", ".a.yaml.swp", "b.yaml", "specs/.DS_Store", "specs/.a.yaml.swp", "specs/b.yaml"} {
				writeFile(t, root, name, "x\n")
			}
			for dir, want := range map[string][]string{"specs": {"specs/b.yaml"}, ".": {"b.yaml", "specs/b.yaml"}} {
				got, err := ChangedFiles(filepath.Join(root, dir))
				if err != nil || !slices.Equal(got, want) {
					t.Errorf("ChangedFiles(%s) = %q, %v; want %q", dir, got, err, want)
				}
				if git, err := exec.LookPath("git"); err == nil {
					cmd := exec.Command(git, "status", "--porcelain", "--untracked-files=all", "--", dir)
					cmd.Dir = root
					out, err := cmd.Output()
					if err != nil {
						t.Fatal(err)
					}
					var listed []string
					for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
						listed = append(listed, line[3:])
					}
					if !slices.Equal(listed, want) {
						t.Errorf("git status -- %s lists %q; the test expects %q", dir, listed, want)
					}
				}
			}
		})
	}
}
