package cli

import (
	"errors"
	"fmt"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"
	"go.yaml.in/yaml/v3"

	"github.com/enrolctl/enrolctl/internal/review/reviewtest"
)

// Testscript commands for the review loop:
//
//	comments gitlab|github         print the comments stored on the fake's merge request
//	merged gitlab|github SHA FILE  merge request 7 was merged as SHA; its plan job saved FILE
//	othercomment gitlab|github AUTHOR FILE
//	                               AUTHOR, not the token's account, comments FILE on
//	                               merge request 7
//	gitsha VAR REV                 set VAR to the commit REV names in the current folder's
//	                               git repository (git rev-parse)
//	cijob gitlab|github JOB        run the script of JOB from the shipped CI template
//	                               (ci/gitlab/enrolctl.gitlab-ci.yml, or the `command: JOB`
//	                               steps of ci/github/action.yml) with sh -e, as CI would
func withReviewCmds(cmds map[string]func(ts *testscript.TestScript, neg bool, args []string)) map[string]func(ts *testscript.TestScript, neg bool, args []string) {
	maps.Copy(cmds, map[string]func(ts *testscript.TestScript, neg bool, args []string){
		"comments": func(ts *testscript.TestScript, neg bool, args []string) {
			srv := fakeServer(ts, args, 1, "comments gitlab|github")
			for _, c := range srv.Comments() {
				fmt.Fprintf(ts.Stdout(), "=== comment %d\n%s\n", c.ID, c.Body)
			}
		},
		"merged": func(ts *testscript.TestScript, neg bool, args []string) {
			srv := fakeServer(ts, args, 3, "merged gitlab|github SHA PLAN-FILE")
			srv.SetReviewedPlan(args[1], []byte(ts.ReadFile(args[2])), "success")
		},
		"othercomment": func(ts *testscript.TestScript, neg bool, args []string) {
			srv := fakeServer(ts, args, 3, "othercomment gitlab|github AUTHOR FILE")
			srv.AddComment(args[1], ts.ReadFile(args[2]))
		},
		"gitsha": func(ts *testscript.TestScript, neg bool, args []string) {
			if neg || len(args) != 2 {
				ts.Fatalf("usage: gitsha VAR REV")
			}
			cmd := exec.Command("git", "rev-parse", "--verify", args[1]+"^{commit}")
			cmd.Dir = ts.MkAbs(".")
			out, err := cmd.Output()
			if err != nil {
				ts.Fatalf("git rev-parse %s: %v", args[1], err)
			}
			ts.Setenv(args[0], strings.TrimSpace(string(out)))
		},
		"cijob": func(ts *testscript.TestScript, neg bool, args []string) {
			if len(args) != 2 {
				ts.Fatalf("usage: cijob gitlab|github JOB")
			}
			lines, err := templateJob(args[0], args[1])
			if err != nil {
				ts.Fatalf("%v", err)
			}
			script := ts.MkAbs(".cijob.sh")
			if err := os.WriteFile(script, []byte(strings.Join(lines, "\n")+"\n"), 0o644); err != nil {
				ts.Fatalf("%v", err)
			}
			err = ts.Exec("sh", "-e", script)
			code := 0
			var ee *exec.ExitError
			if errors.As(err, &ee) {
				code = ee.ExitCode()
			} else if err != nil {
				ts.Fatalf("cijob: %v", err)
			}
			// Keep the job's output for stdout and stderr assertions.
			checkNoToken(ts)
			stdout, stderr := ts.ReadFile("stdout"), ts.ReadFile("stderr")
			fmt.Fprint(ts.Stdout(), stdout)
			fmt.Fprintf(ts.Stderr(), "%sjob exited with %d\n", stderr, code)
			if (code != 0) != neg {
				ts.Fatalf("job %s exited with %d", args[1], code)
			}
		},
	})
	return cmds
}

func fakeServer(ts *testscript.TestScript, args []string, n int, usage string) *reviewtest.Server {
	if len(args) != n || (args[0] != "gitlab" && args[0] != "github") {
		ts.Fatalf("usage: %s", usage)
	}
	return ts.Value(args[0]).(*reviewtest.Server)
}

// templateJob reads the shell lines of a job of a shipped template, without the lines
// that install enrolctl (the test runs the binary under test).
func templateJob(platform, job string) ([]string, error) {
	root := filepath.Join("..", "..", "ci")
	var lines []string
	switch platform {
	case "gitlab":
		var tpl map[string]struct {
			Script []string `yaml:"script"`
		}
		if err := readYAML(filepath.Join(root, "gitlab", "enrolctl.gitlab-ci.yml"), &tpl); err != nil {
			return nil, err
		}
		j, ok := tpl[job]
		if !ok || len(j.Script) == 0 {
			return nil, fmt.Errorf("the GitLab template has no job %q with a script", job)
		}
		lines = j.Script
	case "github":
		var action struct {
			Runs struct {
				Steps []struct {
					If  string `yaml:"if"`
					Run string `yaml:"run"`
				} `yaml:"steps"`
			} `yaml:"runs"`
		}
		if err := readYAML(filepath.Join(root, "github", "action.yml"), &action); err != nil {
			return nil, err
		}
		for _, s := range action.Runs.Steps {
			if s.Run != "" && strings.Contains(s.If, "inputs.command == '"+job+"'") {
				lines = append(lines, strings.Split(strings.TrimSpace(s.Run), "\n")...)
			}
		}
		if len(lines) == 0 {
			return nil, fmt.Errorf("the GitHub action has no run step for command %q", job)
		}
	default:
		return nil, fmt.Errorf("platform %q: want gitlab or github", platform)
	}
	for _, l := range lines {
		if strings.Contains(l, "${{") {
			return nil, fmt.Errorf("job %s: %q uses a workflow expression; pass it through env: so that the script runs as it is", job, l)
		}
	}
	return lines, nil
}

func readYAML(path string, v any) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	return yaml.Unmarshal(data, v)
}

// Every job of the templates is run by a testscript.
func TestTemplateJobsAreRun(t *testing.T) {
	script, err := os.ReadFile(filepath.Join("testdata", "script", "ci_templates.txtar"))
	if err != nil {
		t.Fatal(err)
	}
	for _, job := range []string{"gitlab enrolctl-plan", "gitlab enrolctl-apply", "gitlab enrolctl-drift", "github plan", "github apply", "github drift"} {
		f := strings.Fields(job)
		if _, err := templateJob(f[0], f[1]); err != nil {
			t.Error(err)
		}
		if !strings.Contains(string(script), "cijob "+job+"\n") {
			t.Errorf("ci_templates.txtar does not run %q", job)
		}
	}
}

// One apply at a time per site: the GitLab apply job has a resource_group, the GitHub
// apply job a concurrency group that queues rather than cancels; artifacts that name
// users are for developers only on GitLab.
func TestTemplatesSerialiseApplies(t *testing.T) {
	var gl map[string]struct {
		ResourceGroup string `yaml:"resource_group"`
		Artifacts     struct {
			Access string `yaml:"access"`
		} `yaml:"artifacts"`
	}
	if err := readYAML(filepath.Join("..", "..", "ci", "gitlab", "enrolctl.gitlab-ci.yml"), &gl); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(gl["enrolctl-apply"].ResourceGroup, "$ENROLCTL_SITE") {
		t.Errorf("GitLab apply job's resource_group = %q, want one per site", gl["enrolctl-apply"].ResourceGroup)
	}
	for _, job := range []string{"enrolctl-plan", "enrolctl-apply", "enrolctl-drift"} {
		if gl[job].Artifacts.Access != "developer" {
			t.Errorf("GitLab job %s: artifacts access %q, want developer", job, gl[job].Artifacts.Access)
		}
	}
	var gh struct {
		Jobs map[string]struct {
			Concurrency struct {
				Group            string `yaml:"group"`
				CancelInProgress bool   `yaml:"cancel-in-progress"`
			} `yaml:"concurrency"`
			Permissions map[string]string `yaml:"permissions"`
		} `yaml:"jobs"`
	}
	if err := readYAML(filepath.Join("..", "..", "ci", "github", "workflow.yml"), &gh); err != nil {
		t.Fatal(err)
	}
	apply := gh.Jobs["apply"]
	if apply.Concurrency.Group == "" || apply.Concurrency.CancelInProgress {
		t.Errorf("GitHub apply job's concurrency = %+v, want a group that does not cancel", apply.Concurrency)
	}
	if gh.Jobs["plan"].Permissions["pull-requests"] != "write" || apply.Permissions["actions"] != "read" {
		t.Errorf("GitHub permissions: plan %v, apply %v", gh.Jobs["plan"].Permissions, apply.Permissions)
	}
}

// The GitHub workflow gives the token that writes to the apply job alone, through an
// environment (restricted to the default branch in the repository's settings); the
// pull request's plan job and the drift job hold only the read-only token.
func TestTemplatesKeepTheWriteTokenToApply(t *testing.T) {
	var gh struct {
		Jobs map[string]struct {
			Environment string            `yaml:"environment"`
			Env         map[string]string `yaml:"env"`
		} `yaml:"jobs"`
	}
	if err := readYAML(filepath.Join("..", "..", "ci", "github", "workflow.yml"), &gh); err != nil {
		t.Fatal(err)
	}
	for _, job := range []string{"plan", "drift"} {
		env := gh.Jobs[job].Env
		if _, ok := env["ENROLCTL_TOKEN"]; ok || env["ENROLCTL_READ_TOKEN"] != "${{ secrets.ENROLCTL_READ_TOKEN }}" {
			t.Errorf("GitHub job %s: env %v, want ENROLCTL_READ_TOKEN and not ENROLCTL_TOKEN", job, env)
		}
	}
	apply := gh.Jobs["apply"]
	if apply.Environment == "" || apply.Env["ENROLCTL_TOKEN"] != "${{ secrets.ENROLCTL_TOKEN }}" {
		t.Errorf("GitHub apply job: environment %q, env %v; want an environment holding ENROLCTL_TOKEN", apply.Environment, apply.Env)
	}
	if _, ok := apply.Env["ENROLCTL_READ_TOKEN"]; ok {
		t.Errorf("GitHub apply job: env %v has the read token, which apply does not use", apply.Env)
	}
	// GitLab passes every CI/CD variable a job may see: protection decides, in the
	// project's settings (docs/ci.md). The template must not hand the token that writes
	// to a job itself.
	tpl, err := os.ReadFile(filepath.Join("..", "..", "ci", "gitlab", "enrolctl.gitlab-ci.yml"))
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(tpl), "\n") {
		if !strings.HasPrefix(strings.TrimSpace(line), "#") && strings.Contains(line, "ENROLCTL_TOKEN") {
			t.Errorf("the GitLab template sets the token that writes: %q", line)
		}
	}
}

// The templates sign plans by default (issue 18): the configuration they expect names
// plan_signing_key_env, the GitHub workflow hands the key to the plan and apply jobs,
// and the end-to-end script of the jobs runs with a signing site.
func TestTemplatesSignPlans(t *testing.T) {
	for _, f := range []string{"gitlab/enrolctl.gitlab-ci.yml", "github/workflow.yml"} {
		tpl, err := os.ReadFile(filepath.Join("..", "..", "ci", f))
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(tpl), "#   plan_signing_key_env: ENROLCTL_PLAN_KEY") && !strings.Contains(string(tpl), "#       plan_signing_key_env: ENROLCTL_PLAN_KEY") {
			t.Errorf("ci/%s: the configuration it expects does not name plan_signing_key_env", f)
		}
	}
	var gh struct {
		Jobs map[string]struct {
			Env map[string]string `yaml:"env"`
		} `yaml:"jobs"`
	}
	if err := readYAML(filepath.Join("..", "..", "ci", "github", "workflow.yml"), &gh); err != nil {
		t.Fatal(err)
	}
	for _, job := range []string{"plan", "apply"} {
		if gh.Jobs[job].Env["ENROLCTL_PLAN_KEY"] != "${{ secrets.ENROLCTL_PLAN_KEY }}" {
			t.Errorf("GitHub job %s: env %v lacks the signing key", job, gh.Jobs[job].Env)
		}
	}
	script, err := os.ReadFile(filepath.Join("testdata", "script", "ci_merge_strategies.txtar"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(script), "plan_signing_key_env: ENROLCTL_PLAN_KEY") {
		t.Error("ci_merge_strategies.txtar does not run the jobs with a signing site")
	}
}
