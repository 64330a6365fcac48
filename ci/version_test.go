package ci_test

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/enrolctl/enrolctl/internal/contract"
	"github.com/enrolctl/enrolctl/internal/diff"
)

// read returns a file of the repository.
func read(t *testing.T, path string) string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("..", filepath.FromSlash(path)))
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

// released is the newest release of CHANGELOG.md: the one home of the CLI's version.
func released(t *testing.T) string {
	m := regexp.MustCompile(`(?m)^## \[(\d+\.\d+\.\d+[^\]]*)\] - \d{4}-\d{2}-\d{2}$`).FindStringSubmatch(read(t, "CHANGELOG.md"))
	if m == nil {
		t.Fatal("CHANGELOG.md has no released version (## [X.Y.Z] - YYYY-MM-DD)")
	}
	return m[1]
}

// The templates pin, and the docs name, the newest release of CHANGELOG.md: a release
// that forgets one of them, or a template bumped alone, fails here.
func TestVersionPinned(t *testing.T) {
	v := released(t)
	var gl struct {
		Variables map[string]string `yaml:"variables"`
	}
	if err := yaml.Unmarshal([]byte(read(t, "ci/gitlab/enrolctl.gitlab-ci.yml")), &gl); err != nil {
		t.Fatal(err)
	}
	var action struct {
		Inputs map[string]struct {
			Default string `yaml:"default"`
		} `yaml:"inputs"`
	}
	if err := yaml.Unmarshal([]byte(read(t, "ci/github/action.yml")), &action); err != nil {
		t.Fatal(err)
	}
	var component struct {
		Spec struct {
			Inputs map[string]struct {
				Default string `yaml:"default"`
			} `yaml:"inputs"`
		} `yaml:"spec"`
	}
	if err := yaml.Unmarshal([]byte(read(t, "templates/enrolctl.yml")), &component); err != nil {
		t.Fatal(err)
	}
	for _, pin := range []struct{ where, got string }{
		{"ci/gitlab/enrolctl.gitlab-ci.yml ENROLCTL_VERSION", gl.Variables["ENROLCTL_VERSION"]},
		{"ci/github/action.yml input version", action.Inputs["version"].Default},
		{"templates/enrolctl.yml input version", component.Spec.Inputs["version"].Default},
	} {
		if pin.got != v {
			t.Errorf("%s is %q; CHANGELOG.md's newest release is %s", pin.where, pin.got, v)
		}
	}
	// Every version named where users copy from: the include URLs, the action's ref, the
	// compatibility table's first row.
	for _, f := range []struct{ path, want string }{
		{"ci/gitlab/enrolctl.gitlab-ci.yml", "/v" + v + "/ci/gitlab/"},
		{"ci/github/workflow.yml", "ci/github@v" + v + "\n"},
		{"docs/ci.md", "/v" + v + "/ci/gitlab/"},
		{"docs/ci.md", "ci/github@v" + v + "`"},
		{"docs/compatibility.md", "\n| " + v + " |"},
		{"templates/enrolctl.yml", "enrolctl@" + v + "\n"},
		{"README.md", "ci/install.sh " + v + "`"},
		{"README.md", "ghcr.io/enrolctl/enrolctl:" + v + "`"},
	} {
		text := read(t, f.path)
		if !strings.Contains(text, f.want) {
			t.Errorf("%s does not name %q (CHANGELOG.md's newest release is %s)", f.path, f.want, v)
		}
		for _, old := range regexp.MustCompile(`(?:/v|@v|enrolctl@|enrolctl:|install\.sh )(\d+\.\d+\.\d+)\b`).FindAllStringSubmatch(text, -1) {
			if old[1] != v {
				t.Errorf("%s names version %s; CHANGELOG.md's newest release is %s", f.path, old[1], v)
			}
		}
	}
}

// The jobs install a release; none compiles enrolctl or sets up Go.
func TestTemplatesInstallARelease(t *testing.T) {
	for _, path := range []string{"ci/gitlab/enrolctl.gitlab-ci.yml", "ci/github/action.yml"} {
		text := read(t, path)
		for _, bad := range []string{"go install", "setup-go", "golang:"} {
			if strings.Contains(text, bad) {
				t.Errorf("%s has %q: install the release with ci/install.sh", path, bad)
			}
		}
		if !regexp.MustCompile(`install\.sh"? "\$ENROLCTL_VERSION"`).MatchString(text) {
			t.Errorf("%s does not install with install.sh", path)
		}
	}
}

// GitLab: a newer push cancels a plan, never an apply; drift (exit 2) is a warning.
func TestGitLabJobKeys(t *testing.T) {
	var tpl map[string]struct {
		Interruptible *bool `yaml:"interruptible"`
		AllowFailure  struct {
			ExitCodes []int `yaml:"exit_codes"`
		} `yaml:"allow_failure"`
	}
	if err := yaml.Unmarshal([]byte(read(t, "ci/gitlab/enrolctl.gitlab-ci.yml")), &tpl); err != nil {
		t.Fatal(err)
	}
	for job, want := range map[string]bool{"enrolctl-plan": true, "enrolctl-drift": true, "enrolctl-apply": false} {
		if got := tpl[job].Interruptible; got == nil || *got != want {
			t.Errorf("%s: interruptible %v, want %v", job, got, want)
		}
	}
	if codes := tpl["enrolctl-drift"].AllowFailure.ExitCodes; len(codes) != 1 || codes[0] != 2 {
		t.Errorf("enrolctl-drift: allow_failure exit_codes %v, want [2]", codes)
	}
	if codes := tpl["enrolctl-plan"].AllowFailure.ExitCodes; len(codes) != 0 {
		t.Errorf("enrolctl-plan: allow_failure exit_codes %v: a plan with errors must fail", codes)
	}
}

// The component sets every variable of the template it includes from its inputs, and
// includes the template of its own version.
func TestGitLabComponent(t *testing.T) {
	text := read(t, "templates/enrolctl.yml")
	head, body, ok := strings.Cut(text, "\n---\n")
	if !ok {
		t.Fatal("templates/enrolctl.yml: no spec header ending with ---")
	}
	var spec struct {
		Spec struct {
			Inputs map[string]any `yaml:"inputs"`
		} `yaml:"spec"`
	}
	if err := yaml.Unmarshal([]byte(head), &spec); err != nil {
		t.Fatal(err)
	}
	var comp struct {
		Include []struct {
			Remote string `yaml:"remote"`
		} `yaml:"include"`
		Variables map[string]string `yaml:"variables"`
	}
	if err := yaml.Unmarshal([]byte(body), &comp); err != nil {
		t.Fatal(err)
	}
	if len(comp.Include) != 1 || !strings.Contains(comp.Include[0].Remote, "/v$[[ inputs.version ]]/ci/gitlab/enrolctl.gitlab-ci.yml") {
		t.Errorf("component includes %+v, want the GitLab template of inputs.version", comp.Include)
	}
	var gl struct {
		Variables map[string]string `yaml:"variables"`
	}
	if err := yaml.Unmarshal([]byte(read(t, "ci/gitlab/enrolctl.gitlab-ci.yml")), &gl); err != nil {
		t.Fatal(err)
	}
	for name := range gl.Variables {
		v, ok := comp.Variables[name]
		m := regexp.MustCompile(`^\$\[\[ inputs\.([a-z-]+) \]\]$`).FindStringSubmatch(v)
		if !ok || m == nil || spec.Spec.Inputs[m[1]] == nil {
			t.Errorf("the template's variable %s is not set from an input of the component (%q)", name, v)
		}
	}
}

// The compatibility table's row of the release names the plugins this enrolctl speaks
// to (internal/contract, their one home), the contract and the plan format.
func TestCompatibilityNamesThePlugins(t *testing.T) {
	v, oldest, newest := released(t), contract.Oldest(), contract.Newest()
	row := fmt.Sprintf("| %s | ", v)
	text := read(t, "docs/compatibility.md")
	i := strings.Index(text, "\n"+row)
	if i < 0 {
		t.Fatalf("docs/compatibility.md has no row for %s", v)
	}
	line, _, _ := strings.Cut(text[i+1:], "\n")
	want := fmt.Sprintf("| %s | %s | v%d | %s (%d) to %s (%d); ships %s |", v, diff.FormatVersion, contract.Version, oldest.Release, oldest.Version, newest.Release, newest.Version, newest.Release)
	if !strings.Contains(line, want) {
		t.Errorf("docs/compatibility.md:\n%s\nwant the contract and plugins %q", line, want)
	}
}
