package cli

import (
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/rogpeppe/go-internal/txtar"
)

// TestWorkflowsDocMatchesScripts holds docs/workflows.md to its testscripts: every
// recipe names the script that runs it, each file it shows is in that script with the
// same content, and each command it shows is run there (with the script's extra flags,
// such as --auto-approve).
func TestWorkflowsDocMatchesScripts(t *testing.T) {
	doc, err := os.ReadFile(filepath.Join("..", "..", "docs", "workflows.md"))
	if err != nil {
		t.Fatal(err)
	}
	sections := strings.Split(string(doc), "\n## ")[1:]
	if len(sections) != 5 {
		t.Fatalf("docs/workflows.md has %d recipes, want the five jobs", len(sections))
	}
	tested := regexp.MustCompile("Tested by `(internal/cli/testdata/script/[^`]+\\.txtar)`")
	fence := regexp.MustCompile("(?s)```(\\w+)\n(.*?)```")
	for _, sec := range sections {
		title, _, _ := strings.Cut(sec, "\n")
		m := tested.FindStringSubmatch(sec)
		if m == nil {
			t.Errorf("recipe %q names no testscript", title)
			continue
		}
		ar, err := txtar.ParseFile(filepath.Join("..", "..", m[1]))
		if err != nil {
			t.Errorf("recipe %q: %v", title, err)
			continue
		}
		files := map[string]string{}
		for _, f := range ar.Files {
			files[f.Name] = string(f.Data)
		}
		commands := scriptCommands(string(ar.Comment))
		for _, b := range fence.FindAllStringSubmatch(sec, -1) {
			lang, body := b[1], b[2]
			switch lang {
			case "yaml", "hcl":
				first, rest, _ := strings.Cut(body, "\n")
				name := strings.TrimSpace(strings.TrimPrefix(first, "#"))
				if got, ok := files[name]; !ok || got != rest {
					t.Errorf("recipe %q: %s is not in %s as shown", title, name, m[1])
				}
			case "csv":
				if !slices.Contains(mapValues(files), body) {
					t.Errorf("recipe %q: the CSV shown is not a file of %s", title, m[1])
				}
			case "sh":
				for _, line := range strings.Split(strings.TrimSpace(body), "\n") {
					want := tokens(strings.TrimPrefix(strings.Split(line, " > ")[0], "enrolctl "))
					if !slices.ContainsFunc(commands, func(have []string) bool { return runs(have, want) }) {
						t.Errorf("recipe %q: %s does not run %q", title, m[1], line)
					}
				}
			}
		}
	}
}

// scriptCommands are the enrolctl command lines of a script (exec enrolctl ..., exits N ...).
func scriptCommands(script string) [][]string {
	var out [][]string
	for _, line := range strings.Split(script, "\n") {
		f := tokens(line)
		switch {
		case len(f) > 2 && f[0] == "exec" && f[1] == "enrolctl":
			out = append(out, f[2:])
		case len(f) > 2 && f[0] == "exits":
			out = append(out, f[2:])
		}
	}
	return out
}

// runs reports whether a script command runs the documented one: same subcommand words,
// every documented argument present.
func runs(have, want []string) bool {
	if len(want) == 0 || len(have) == 0 || have[0] != want[0] {
		return false
	}
	for _, w := range want {
		if !slices.Contains(have, w) {
			return false
		}
	}
	return true
}

func tokens(s string) []string {
	return strings.Fields(strings.NewReplacer(`"`, "", `'`, "").Replace(s))
}

func mapValues(m map[string]string) []string {
	var out []string
	for _, v := range m {
		out = append(out, v)
	}
	return out
}
