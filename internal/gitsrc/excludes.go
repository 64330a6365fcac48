package gitsrc

import (
	"cmp"
	"os"
	"path/filepath"
	"strings"

	"github.com/go-git/go-billy/v5/osfs"
	"github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/config"
	"github.com/go-git/go-git/v5/plumbing/format/gitignore"
	"github.com/go-git/go-git/v5/storage/filesystem"
)

// excludes are the ignore patterns git reads besides the .gitignore files, lowest
// priority first: the file core.excludesFile names (by default
// $XDG_CONFIG_HOME/git/ignore), then the repository's info/exclude. go-git's Status
// reads neither, so a file that a user's excludes keep out of `git status` (.DS_Store,
// an editor's swap file) would make the spec folder dirty. A file that cannot be read
// is left out, as git leaves it.
func excludes(repo *git.Repository) []gitignore.Pattern {
	var ps []gitignore.Pattern
	if name := globalExcludesFile(); name != "" {
		global, _ := readIgnoreFile(osfs.New(filepath.Dir(name)), nil, filepath.Base(name))
		ps = append(ps, global...)
	}
	if st, ok := repo.Storer.(*filesystem.Storage); ok {
		// In a linked worktree this is the main repository's info/exclude, as in git.
		local, _ := readIgnoreFile(st.Filesystem(), nil, "info/exclude")
		ps = append(ps, local...)
	}
	return ps
}

// globalExcludesFile is the file git's core.excludesFile names in the system and
// global configuration (the last one set wins, as in git), or git's default.
func globalExcludesFile() string {
	home, _ := os.UserHomeDir()
	xdg := os.Getenv("XDG_CONFIG_HOME")
	if xdg == "" && home != "" {
		xdg = filepath.Join(home, ".config")
	}
	var files []string
	if os.Getenv("GIT_CONFIG_NOSYSTEM") == "" {
		files = append(files, "/etc/gitconfig")
	}
	if global, set := os.LookupEnv("GIT_CONFIG_GLOBAL"); set { // empty: none, as in git
		files = append(files, global)
	} else if home != "" {
		files = append(files, filepath.Join(xdg, "git", "config"), filepath.Join(home, ".gitconfig"))
	}
	name := ""
	if xdg != "" {
		name = filepath.Join(xdg, "git", "ignore")
	}
	for _, file := range files {
		text, err := os.ReadFile(file)
		if err != nil {
			continue
		}
		cfg := config.NewConfig()
		if cfg.Unmarshal(text) == nil {
			name = cmp.Or(cfg.Raw.Section("core").Options.Get("excludesfile"), name)
		}
	}
	if rest, ok := strings.CutPrefix(name, "~/"); ok && home != "" {
		name = filepath.Join(home, rest)
	}
	return name
}
