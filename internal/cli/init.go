package cli

import (
	"errors"
	"fmt"
	"io/fs"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/enrolctl/enrolctl/ci"
	"github.com/enrolctl/enrolctl/internal/config"
)

// initFile is one file enrolctl init writes.
type initFile struct {
	path string // slash-separated, relative to the folder init runs in
	data string
}

func (a *App) initCommand() *cobra.Command {
	var siteURL, ciKind, timezone string
	cmd := &cobra.Command{
		Use:   "init",
		Short: "Start a specs repository: configuration, specs/, .gitignore and CI file",
		Long: `Init writes, in the current folder, what a specs repository needs:

  enrolctl.yaml   the configuration: the sandbox Moodle, or the site of --site-url
  specs/          one commented example spec
  .gitignore      ignoring .enrolctl/ (the sandbox, the audit log: it names users)
  the CI file     with --ci gitlab (.gitlab-ci.yml) or github
                  (.github/workflows/enrolctl.yml): a copy of the shipped template

and prints the next steps. It never overwrites a file: when one exists, it stops,
naming it, and writes nothing (an existing .gitignore gets the .enrolctl/ line added).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			files, err := initFiles(siteURL, ciKind, timezone)
			if err != nil {
				return err
			}
			return a.writeInit(files, siteURL)
		},
	}
	cmd.Flags().StringVar(&siteURL, "site-url", "", "the Moodle site's address (https://moodle.example.edu); without it, the sandbox Moodle")
	cmd.Flags().StringVar(&ciKind, "ci", "", "also write the CI file: gitlab or github")
	cmd.Flags().StringVar(&timezone, "timezone", "Europe/Paris", "the site's time zone, as in Moodle's Site administration > Location settings")
	return cmd
}

// siteTokenEnv and siteReadTokenEnv are the variables init's configuration names: the
// ones the shipped CI templates document.
const (
	siteTokenEnv     = "ENROLCTL_TOKEN"
	siteReadTokenEnv = "ENROLCTL_READ_TOKEN"
)

// initFiles are the files of a new specs repository, checked: the configuration is
// parsed as enrolctl will read it, so a bad URL or zone stops init before any write.
func initFiles(siteURL, ciKind, timezone string) ([]initFile, error) {
	if _, err := time.LoadLocation(timezone); err != nil || timezone == "" || timezone == "Local" {
		return nil, fmt.Errorf("--timezone %q: use an IANA name such as Europe/Paris", timezone)
	}
	cfg, example := sandboxConfig(timezone), sandboxExample
	if siteURL != "" {
		name, err := initSiteName(siteURL)
		if err != nil {
			return nil, err
		}
		cfg, example = fmt.Sprintf(siteConfig, timezone, name, siteURL, siteTokenEnv, siteReadTokenEnv), siteExample
	}
	if _, ds := config.Parse(config.Names[0], []byte(cfg)); ds.HasErrors() {
		var msgs []string
		for _, d := range ds {
			msgs = append(msgs, d.Message)
		}
		return nil, fmt.Errorf("--site-url %s: %s", siteURL, strings.Join(msgs, "; "))
	}
	files := []initFile{{config.Names[0], cfg}, {"specs/example.yaml", example}}
	switch ciKind {
	case "":
	case "gitlab":
		files = append(files, initFile{".gitlab-ci.yml", string(ci.GitLab)})
	case "github":
		files = append(files, initFile{".github/workflows/enrolctl.yml", string(ci.GitHubWorkflow)})
	default:
		return nil, fmt.Errorf("--ci %s: want gitlab or github", ciKind)
	}
	return files, nil
}

var siteNameChars = regexp.MustCompile(`[^a-z0-9_-]+`)

// initSiteName names the site after the first label of its host (ecampus for
// https://ecampus.univ.example), the name --site and ENROLCTL_SITE use.
func initSiteName(siteURL string) (string, error) {
	u, err := url.Parse(siteURL)
	if err != nil || u.Hostname() == "" || (u.Scheme != "https" && u.Scheme != "http") {
		return "", fmt.Errorf("--site-url %q: give the site's address, such as https://moodle.example.edu", siteURL)
	}
	label, _, _ := strings.Cut(strings.ToLower(u.Hostname()), ".")
	if net.ParseIP(u.Hostname()) != nil || label == "localhost" {
		return "moodle", nil
	}
	name := strings.Trim(siteNameChars.ReplaceAllString(label, "-"), "-_")
	if name == "" || !(name[0] >= 'a' && name[0] <= 'z' || name[0] >= '0' && name[0] <= '9') {
		name = "moodle"
	}
	return name, nil
}

// writeInit writes files, none of which may exist yet, then prints the next steps.
func (a *App) writeInit(files []initFile, siteURL string) error {
	for _, f := range files {
		if _, err := os.Lstat(a.path(f.path)); !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("%s already exists; init never overwrites a file, and wrote nothing (move it away, or edit it by hand)", f.path)
		}
	}
	var written []string
	for _, f := range files {
		p := a.path(filepath.FromSlash(f.path))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(p, []byte(f.data), 0o644); err != nil {
			return err
		}
		written = append(written, f.path)
	}
	ignore, err := a.ignoreState()
	if err != nil {
		return err
	}
	if ignore != "" {
		written = append(written, ignore)
	}
	fmt.Fprintf(a.Out, "Wrote %s.\n\nNext steps:\n", strings.Join(written, ", "))
	if siteURL == "" {
		fmt.Fprint(a.Out, `  enrolctl plan                 # what specs/example.yaml would change in the sandbox Moodle
  enrolctl apply                # make it so (enrolctl sandbox reset starts over)
  enrolctl explain 21009539     # a student's enrolments, the spec line owning each
For a real Moodle, replace the sandbox site in enrolctl.yaml by the commented one, set
`+siteTokenEnv+` and run enrolctl doctor (docs/moodle-setup.md).
`)
		return nil
	}
	fmt.Fprint(a.Out, `  export `+siteTokenEnv+`=...     # the web service token (docs/moodle-setup.md); never in a file
  enrolctl doctor               # checks the URL, the token, the time zone and the plugin
  enrolctl import moodle --course 'GLOB'   # optional: specs written from live courses
  enrolctl plan                 # what the specs would change; nothing is written
Merge-request pipelines plan with a read-only token: see `+siteReadTokenEnv+` in enrolctl.yaml and docs/ci.md.
`)
	return nil
}

// ignoreState makes git ignore .enrolctl/ (the sandbox, the audit log, which names
// users): a new .gitignore, or the line added to the one there. It returns the file
// written, or "" when it already ignores it.
func (a *App) ignoreState() (string, error) {
	p := a.path(".gitignore")
	old, err := os.ReadFile(p)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return "", err
	}
	for _, line := range strings.Split(string(old), "\n") {
		if l := strings.TrimSpace(line); l == ".enrolctl" || l == ".enrolctl/" || l == "/.enrolctl/" || l == "/.enrolctl" {
			return "", nil
		}
	}
	add := "# enrolctl's state: the sandbox Moodle and the audit log (it names users)\n.enrolctl/\n"
	if len(old) > 0 && !strings.HasSuffix(string(old), "\n") {
		add = "\n" + add
	}
	// Appended, not rewritten: a write that fails midway cannot cut the user's lines.
	f, err := os.OpenFile(p, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		return "", err
	}
	if _, err := f.WriteString(add); err != nil {
		f.Close()
		return "", err
	}
	if err := f.Close(); err != nil {
		return "", err
	}
	if len(old) > 0 {
		return ".gitignore (.enrolctl/ added)", nil
	}
	return ".gitignore", nil
}

func sandboxConfig(timezone string) string {
	return fmt.Sprintf(`# enrolctl's configuration: the Moodle sites the specs apply to (docs/spec.md,
# "Configuration"). Paths are relative to this file.
defaults:
  timezone: %s   # dates in specs are whole days in this zone: Moodle's Location settings
sites:
  sandbox:
    sandbox: true    # the built-in sandbox Moodle (a demo site), to try enrolctl first
  # A real site, in place of the sandbox (enrolctl doctor checks it):
  # ecampus:
  #   url: https://moodle.example.edu
  #   token_env: %s            # the environment variable holding the token
  #   read_token_env: %s  # optional: a token of the read-only service
`, timezone, siteTokenEnv, siteReadTokenEnv)
}

// siteConfig takes the zone, the site's name, URL, token variable and read token variable.
const siteConfig = `# enrolctl's configuration: the Moodle sites the specs apply to (docs/spec.md,
# "Configuration"). Paths are relative to this file; tokens are never written here.
defaults:
  timezone: %s   # dates in specs are whole days in this zone: Moodle's Location settings
sites:
  %s:
    url: %q
    token_env: %s              # the environment variable holding the web service token
    # read_token_env: %s  # a token of the read-only service, for plan jobs (docs/ci.md)
`

const exampleBody = `course: L1-INFO-ALGO            # the course shortname: the identity of the course
` + exampleManual

// exampleManual is the manual enrolments of both examples.
const exampleManual = `manual:                         # manual enrolments
  role: student                 # the default role of the users below
  until: 2027-06-30             # their end date: a whole day in the site's zone, or never
  users:
    - "21009539"                # a username
    - username: dumontj01
      role: editingteacher
      until: never
`

// sandboxExample manages a course of the sandbox's demo site, so that the first plan
// shows what a spec does. It lists every manual user the course has: a manual user it
// left out would be drift, and plan --detailed-exitcode would exit 2 after every apply.
const sandboxExample = `# A course spec: one file per course, anywhere under specs/ (docs/spec.md).
# This one manages the manual enrolments of the sandbox's demo course
# L1-INFO-TRONC-COMMUN: its three teachers, and one student more. A spec that lists
# manual users lists them all: one made by hand that it leaves out is drift, which
# every plan names. The course's cohort sync, which no spec declares, is left alone.
course: L1-INFO-TRONC-COMMUN    # the course shortname: the identity of the course
` + exampleManual + `    - username: marchals01
      role: teacher
      until: never
    - username: lemaitrep01
      role: teacher
      until: never
`

// siteExample is the same spec commented out: on a real site the course may not exist.
var siteExample = `# A course spec: one file per course, anywhere under specs/ (docs/spec.md). Remove the
# leading "# " of the lines below and name one of your courses (enrolctl courses
# lists them), or write specs from live courses: enrolctl import moodle --course GLOB.
#
` + "# " + strings.ReplaceAll(strings.TrimSuffix(exampleBody, "\n"), "\n", "\n# ") + "\n"
