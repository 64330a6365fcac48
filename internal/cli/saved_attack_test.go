package cli

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing/object"
)

// Issue 10: saved plans were trusted. After removing removes, protected or
// fingerprints from a plan file, turning an update into a delete, or changing a
// username to admin with role manager, apply applied the file with no flag. Each edit
// is now refused, and nothing is written to Moodle.

// savedPlanSpecs plan: a protected course losing its cohort method (150 enrolments), a
// course losing 7 of 7 manual enrolments, a renewal, and a new enrolment.
var savedPlanSpecs = map[string]string{
	"specs/anat.yaml": "course: IFSI-S1-ANAT\nprotect: true\nmethods_prune: true\nmethods:\n  - type: manual\n",
	"specs/word.yaml": "course: FC-WORD\nmanual:\n  prune: unenrol\n  users:\n    - username: dumontj01\n      role: editingteacher\n",
	"specs/algo.yaml": "course: L1-INFO-ALGO\nmethods:\n  - type: database\n  - type: manual\nmanual:\n  until: 2027-06-30\n  users:\n    - \"21009539\"\n",
}

type sandboxRun struct {
	t   *testing.T
	dir string
	out bytes.Buffer
	env map[string]string // besides NO_COLOR=1
}

func newSandboxRun(t *testing.T, files map[string]string) *sandboxRun {
	r := &sandboxRun{t: t, dir: t.TempDir()}
	for name, content := range files {
		p := filepath.Join(r.dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return r
}

func (r *sandboxRun) run(args ...string) int {
	r.out.Reset()
	app := &App{Streams: Streams{In: strings.NewReader(""), Out: &r.out, Err: &r.out}, Dir: r.dir,
		Getenv: func(k string) string {
			if k == "NO_COLOR" {
				return "1"
			}
			return r.env[k]
		}}
	return app.Run(args)
}

func (r *sandboxRun) read(name string) []byte {
	data, err := os.ReadFile(filepath.Join(r.dir, name))
	if err != nil {
		r.t.Fatal(err)
	}
	return data
}

// maybeRead is the file's content, nil when there is none.
func (r *sandboxRun) maybeRead(name string) []byte {
	data, _ := os.ReadFile(filepath.Join(r.dir, name))
	return data
}

// editPlan rewrites plan.json with edit applied to its decoded JSON.
func (r *sandboxRun) editPlan(edit func(p map[string]any)) {
	var p map[string]any
	if err := json.Unmarshal(r.read("plan.json"), &p); err != nil {
		r.t.Fatal(err)
	}
	edit(p)
	// An attacker keeps the document consistent: its summary recounts the changes.
	if sum, ok := p["summary"].(map[string]any); ok {
		counts := map[string]float64{}
		for _, c := range p["changes"].([]any) {
			counts[c.(map[string]any)["action"].(string)]++
		}
		sum["add"], sum["change"], sum["remove"] = counts["create"], counts["update"], counts["delete"]
	}
	data, _ := json.Marshal(p)
	if err := os.WriteFile(filepath.Join(r.dir, "plan.json"), data, 0o644); err != nil {
		r.t.Fatal(err)
	}
}

// changes returns the plan's changes whose address contains addr.
func changes(p map[string]any, addr string) []map[string]any {
	var out []map[string]any
	for _, c := range p["changes"].([]any) {
		if m := c.(map[string]any); strings.Contains(m["address"].(string), addr) {
			out = append(out, m)
		}
	}
	return out
}

func TestAttackEditedSavedPlansAreRefused(t *testing.T) {
	tests := []struct {
		name string
		args []string
		edit func(p map[string]any)
		want string
	}{
		{"removes deleted from every change", []string{"--max-removals", "10", "--max-removal-share", "1", "--max-site-removals", "1000"}, func(p map[string]any) {
			for _, c := range p["changes"].([]any) {
				delete(c.(map[string]any), "removes")
			}
			p["protected"] = []any{}
		}, "not what the specs produce"},
		{"protected deleted", []string{"--allow-removals"}, func(p map[string]any) { delete(p, "protected") },
			"course IFSI-S1-ANAT is protected"},
		{"fingerprints deleted", []string{"--allow-removals"}, func(p map[string]any) { delete(p, "fingerprints") },
			"no fingerprint"},
		{"an update turned into a delete", nil, func(p map[string]any) {
			c := changes(p, "enrolment/manual/21009539")[0]
			c["action"] = "delete"
		}, "the specs produce an update, not delete"},
		{"a username changed to admin with role manager", nil, func(p map[string]any) {
			c := changes(p, "enrolment/manual/21009539")[0]
			c["address"] = "course/L1-INFO-ALGO/enrolment/manual/admin"
			e := c["enrolment"].(map[string]any)
			e["username"], e["roles"] = "admin", []any{"manager"}
		}, "update course/L1-INFO-ALGO/enrolment/manual/admin: the specs do not produce it"},
		{"an enrolment without its object", nil, func(p map[string]any) {
			delete(changes(p, "enrolment/manual/21009539")[0], "enrolment")
		}, "missing property 'enrolment'"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newSandboxRun(t, savedPlanSpecs)
			if code := r.run("plan", "-out", "plan.json"); code != 0 {
				t.Fatalf("plan: exit %d\n%s", code, r.out.String())
			}
			before := r.maybeRead(".enrolctl/sandbox.json")
			r.editPlan(tt.edit)
			code := r.run(append([]string{"apply", "plan.json"}, tt.args...)...)
			if code != 1 || !strings.Contains(r.out.String(), tt.want) {
				t.Errorf("apply: exit %d, want 1 with %q; output:\n%s", code, tt.want, r.out.String())
			}
			if !bytes.Equal(before, r.maybeRead(".enrolctl/sandbox.json")) {
				t.Error("the sandbox Moodle changed")
			}
			if _, err := os.Stat(filepath.Join(r.dir, ".enrolctl", "audit.log")); err == nil {
				t.Error("an audit record was written: apply started writing")
			}
		})
	}
}

// The untouched plan applies, and --course narrows a saved plan to some courses.
func TestSavedPlanHonoursCourse(t *testing.T) {
	files := map[string]string{"specs/algo.yaml": savedPlanSpecs["specs/algo.yaml"],
		"specs/word.yaml": "course: FC-WORD\ngroups: [Soir]\n"}
	r := newSandboxRun(t, files)
	if code := r.run("plan", "-out", "plan.json"); code != 0 {
		t.Fatalf("plan: exit %d\n%s", code, r.out.String())
	}
	if code := r.run("apply", "plan.json", "--course", "NOPE-*"); code != 1 || !strings.Contains(r.out.String(), "matches no course of the plan") {
		t.Errorf("apply --course NOPE-*: exit %d\n%s", code, r.out.String())
	}
	if code := r.run("apply", "plan.json", "--course", "FC-*"); code != 0 {
		t.Fatalf("apply --course FC-*: exit %d\n%s", code, r.out.String())
	}
	if !strings.Contains(r.out.String(), "course FC-WORD: 1 applied") || strings.Contains(r.out.String(), "L1-INFO-ALGO") {
		t.Errorf("apply --course FC-* did not apply FC-WORD alone:\n%s", r.out.String())
	}
	if code := r.run("plan", "--detailed-exitcode"); code != 2 || !strings.Contains(r.out.String(), "~ enrolment manual/21009539") || strings.Contains(r.out.String(), "+ group Soir") {
		t.Errorf("plan after apply --course: exit %d\n%s", code, r.out.String())
	}
}

// A saved plan is checked against the specs at its commit, not the working tree: after
// the merge, later commits may change the specs, and the reviewed plan still applies;
// a plan file that drops its commit is refused.
func TestSavedPlanCheckedAgainstItsCommit(t *testing.T) {
	r := newSandboxRun(t, map[string]string{"specs/algo.yaml": savedPlanSpecs["specs/algo.yaml"]})
	repo, err := git.PlainInit(r.dir, false)
	if err != nil {
		t.Fatal(err)
	}
	wt, _ := repo.Worktree()
	commit := func(msg string) {
		if _, err := wt.Add("specs"); err != nil {
			t.Fatal(err)
		}
		if _, err := wt.Commit(msg, &git.CommitOptions{Author: &object.Signature{Name: "t", Email: "t@x", When: time.Unix(0, 0)}}); err != nil {
			t.Fatal(err)
		}
	}
	commit("renew 21009539")
	if code := r.run("plan", "-out", "plan.json"); code != 0 {
		t.Fatalf("plan: exit %d\n%s", code, r.out.String())
	}
	saved := r.read("plan.json")
	// A later commit renews someone else instead.
	if err := os.WriteFile(filepath.Join(r.dir, "specs/algo.yaml"), []byte(strings.ReplaceAll(savedPlanSpecs["specs/algo.yaml"], "21009539", "22156420")), 0o644); err != nil {
		t.Fatal(err)
	}
	commit("renew 22156420 instead")
	r.editPlan(func(p map[string]any) { delete(p, "commit"); delete(p, "specs_digest") })
	if code := r.run("apply", "plan.json"); code != 1 || !strings.Contains(r.out.String(), "records no commit") {
		t.Errorf("apply without a commit: exit %d\n%s", code, r.out.String())
	}
	if err := os.WriteFile(filepath.Join(r.dir, "plan.json"), saved, 0o644); err != nil {
		t.Fatal(err)
	}
	// (Without its specs digest, which would refuse other specs outright.)
	r.editPlan(func(p map[string]any) { delete(p, "specs_digest") })
	if code := r.run("apply", "plan.json"); code != 0 || !strings.Contains(r.out.String(), "course L1-INFO-ALGO: 1 applied") {
		t.Errorf("apply of the reviewed plan after a later commit: exit %d\n%s", code, r.out.String())
	}
}

// Issue 10: approvals.removals in a saved plan could be forged by whoever can edit the
// artifact. With the site's plan signing key set, plan -out signs the plan and apply
// refuses one whose signature is missing or wrong, writing nothing; the key is never
// printed.
func TestSignedPlanRefusesAFlippedApproval(t *testing.T) {
	const key = "s3cret-plan-k3y-0123456789"
	files := map[string]string{
		"enrolctl.yaml":   "sites:\n  sandbox:\n    sandbox: true\n    plan_signing_key_env: ENROLCTL_PLAN_KEY\n",
		"specs/word.yaml": savedPlanSpecs["specs/word.yaml"], // 7 of 7 enrolments removed: above the limits
	}
	tests := []struct {
		name     string
		planArgs []string
		edit     func(p map[string]any)
		env      map[string]string // at apply
		code     int
		want     string
	}{
		{"approval flipped", nil, func(p map[string]any) { p["approvals"].(map[string]any)["removals"] = true },
			map[string]string{"ENROLCTL_PLAN_KEY": key}, 1, "plan.json: the plan file's signature does not match its content"},
		{"signature removed", nil, func(p map[string]any) { delete(p, "signature") },
			map[string]string{"ENROLCTL_PLAN_KEY": key}, 1, "plan.json: the plan file is not signed"},
		{"another key at apply", []string{"--allow-removals"}, func(map[string]any) {},
			map[string]string{"ENROLCTL_PLAN_KEY": "an0ther-k3y"}, 1, "signature does not match"},
		{"approved at plan time, untouched", []string{"--allow-removals"}, func(map[string]any) {},
			map[string]string{"ENROLCTL_PLAN_KEY": key}, 0, "Apply complete"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newSandboxRun(t, files)
			r.env = map[string]string{"ENROLCTL_PLAN_KEY": key}
			if code := r.run(append([]string{"plan", "-out", "plan.json"}, tt.planArgs...)...); code != 0 {
				t.Fatalf("plan: exit %d\n%s", code, r.out.String())
			}
			if plan := r.read("plan.json"); !bytes.Contains(plan, []byte(`"signature": "hmac-sha256:`)) || bytes.Contains(plan, []byte(key)) {
				t.Fatalf("plan.json is not signed, or holds the key:\n%s", plan)
			}
			before := r.maybeRead(".enrolctl/sandbox.json")
			r.editPlan(tt.edit)
			r.env = tt.env
			code := r.run("apply", "plan.json")
			if code != tt.code || !strings.Contains(r.out.String(), tt.want) {
				t.Fatalf("apply: exit %d, want %d with %q; output:\n%s", code, tt.code, tt.want, r.out.String())
			}
			if strings.Contains(r.out.String(), key) {
				t.Error("the output holds the key")
			}
			if tt.code == 0 {
				return
			}
			if !bytes.Equal(before, r.maybeRead(".enrolctl/sandbox.json")) {
				t.Error("the sandbox Moodle changed")
			}
			if _, err := os.Stat(filepath.Join(r.dir, ".enrolctl", "audit.log")); err == nil {
				t.Error("an audit record was written: apply started writing")
			}
		})
	}
}
