package cli

import (
	"errors"
	"os"
	"os/exec"
	"strconv"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/enrolctl/enrolctl/internal/planfile"
	"github.com/enrolctl/enrolctl/internal/review/reviewtest"
)

func TestMain(m *testing.M) {
	if benchChild() {
		return
	}
	testscript.Main(ownCacheHome{benchCleanup{m}}, map[string]func(){
		"enrolctl": func() { os.Exit(Main(os.Args[1:], StdStreams())) },
	})
}

// ownCacheHome runs the tests with a cache folder of their own: the parse cache's key
// (parseCacheKey) is kept there, and is the user's, not the tests'.
type ownCacheHome struct{ benchCleanup }

func (m ownCacheHome) Run() int {
	dir, err := os.MkdirTemp("", "enrolctl-xdg-cache-")
	if err != nil {
		panic(err)
	}
	defer os.RemoveAll(dir)
	os.Setenv("XDG_CACHE_HOME", dir)
	return m.benchCleanup.Run()
}

// fakeToken is the token the fake GitLab and GitHub accept.
const fakeToken = "fake-review-token"

// TestScripts runs the CLI scenarios in testdata/script: each is a txtar archive of
// files and commands, run in a fresh folder with the sandbox Moodle. Each script also
// has a fake GitLab ($FAKE_GITLAB_API, project 42, merge request 7) and a fake GitHub
// ($FAKE_GITHUB_API, acme/specs, pull request 7) accepting $FAKE_TOKEN; the commands
// for them and for the CI templates are in review_cmds_test.go. A script may also
// serve a configured Moodle site over HTTP (moodlesite_cmds_test.go).
//
// The command `validplan FILE` checks FILE against the shipped plan schema
// (docs/plan.schema.json). The command `exits N ARGS...` runs enrolctl ARGS and fails unless it exits with
// exactly N (`! exec` only tells 0 from not 0, and CI jobs branch on 2 versus 1), and
// fails if its output carries the token $WRITE_TOKEN or $READ_TOKEN (moodlesite).
func TestScripts(t *testing.T) {
	testscript.Run(t, testscript.Params{
		Dir: "testdata/script",
		Setup: func(env *testscript.Env) error {
			env.Setenv("NO_COLOR", "1")
			env.Setenv("XDG_CACHE_HOME", os.Getenv("XDG_CACHE_HOME"))
			gl, gh := reviewtest.NewGitLab(fakeToken), reviewtest.NewGitHub(fakeToken)
			env.Defer(gl.Close)
			env.Defer(gh.Close)
			env.Values["gitlab"], env.Values["github"] = gl, gh
			env.Setenv("FAKE_GITLAB_API", gl.URL+"/api/v4")
			env.Setenv("FAKE_GITHUB_API", gh.URL)
			env.Setenv("FAKE_TOKEN", fakeToken)
			env.Values["moodlesite"] = &moodleSite{}
			return nil
		},
		Cmds: withFaultCmds(withByHandCmds(withMoodleSiteCmds(withReviewCmds(map[string]func(ts *testscript.TestScript, neg bool, args []string){
			"validplan": func(ts *testscript.TestScript, neg bool, args []string) {
				if len(args) != 1 {
					ts.Fatalf("usage: validplan FILE")
				}
				err := planfile.Validate([]byte(ts.ReadFile(args[0])))
				if neg && err == nil {
					ts.Fatalf("%s is a valid plan document", args[0])
				}
				if !neg && err != nil {
					ts.Fatalf("%s does not validate against docs/plan.schema.json: %v", args[0], err)
				}
			},
			"exits": func(ts *testscript.TestScript, neg bool, args []string) {
				if neg || len(args) < 1 {
					ts.Fatalf("usage: exits CODE enrolctl-args...")
				}
				want, err := strconv.Atoi(args[0])
				if err != nil {
					ts.Fatalf("exits: bad code %q", args[0])
				}
				got := 0
				if err := ts.Exec("enrolctl", args[1:]...); err != nil {
					var ee *exec.ExitError
					if !errors.As(err, &ee) {
						ts.Fatalf("exits: %v", err)
					}
					got = ee.ExitCode()
				}
				if got != want {
					ts.Fatalf("enrolctl exited with %d, want %d", got, want)
				}
				checkNoToken(ts)
			},
		})))),
	})
}
