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
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/object"

	"github.com/enrolctl/enrolctl/internal/planfile"
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

// Issue 17: a saved-plan apply parsed and validated the file in planfile.Decode and
// three times more in apply, and parsed it again for its signature. planfile.Read is
// now the one validator and the one parse (its Saved checks the signature from it),
// and apply runs it once.
func TestSavedPlanIsValidatedOnce(t *testing.T) {
	r := newSandboxRun(t, map[string]string{"specs/algo.yaml": savedPlanSpecs["specs/algo.yaml"]})
	if code := r.run("plan", "-out", "plan.json"); code != 0 {
		t.Fatalf("plan: exit %d\n%s", code, r.out.String())
	}
	calls := 0
	defer func(d func([]byte) (*planfile.Saved, error)) { decodePlan = d }(decodePlan)
	decodePlan = func(data []byte) (*planfile.Saved, error) { calls++; return planfile.Read(data) }
	if code := r.run("apply", "plan.json"); code != 0 || !strings.Contains(r.out.String(), "1 applied") {
		t.Fatalf("apply plan.json: exit %d\n%s", code, r.out.String())
	}
	if calls != 1 {
		t.Errorf("the plan file was validated %d times, want once", calls)
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

// Issue 18 (high): a saved plan could name any commit's specs. On a branch, user
// 90153486 was added as manager, planned with -out, and the plan applied on main with
// its specs digest deleted: the user became manager though main never said so. A plan
// is now bound to exactly the specs it was planned from (a required digest of the
// files read), and apply re-plans from the specs checked out here, so a plan from an
// unmerged or reverted branch is refused, with and without a signing key, and
// nothing is written.
func TestForgedPlanFromAnotherBranchIsRefused(t *testing.T) {
	const key = "s3cret-plan-k3y-0123456789"
	evil := strings.Replace(savedPlanSpecs["specs/algo.yaml"], "    - \"21009539\"\n", "    - \"21009539\"\n    - username: \"90153486\"\n      role: manager\n", 1)
	for _, signed := range []bool{false, true} {
		files := map[string]string{"specs/algo.yaml": savedPlanSpecs["specs/algo.yaml"]}
		if signed {
			files["enrolctl.yaml"] = "sites:\n  sandbox:\n    sandbox: true\n    plan_signing_key_env: ENROLCTL_PLAN_KEY\n"
		}
		for _, tt := range []struct {
			name string
			// made leaves plan.json made from specs other than main's, and the
			// working tree back on main.
			made func(g *gitRun)
			edit func(p map[string]any)
			want string
		}{
			{"branch plan, digest deleted", branchPlan(evil), func(p map[string]any) { delete(p, "specs_digest") }, "records no specs digest"},
			{"branch plan, digest emptied", branchPlan(evil), func(p map[string]any) { p["specs_digest"] = "" }, "records no specs digest"},
			{"branch plan as made", branchPlan(evil), nil, "made from other specs at commit"},
			{"branch plan with main's digest", branchPlan(evil), func(p map[string]any) { p["specs_digest"] = mainDigest }, "not what the specs produce"},
			{"branch plan with main's digest and approved removals", branchPlan(evil), func(p map[string]any) {
				p["specs_digest"] = mainDigest
				p["approvals"] = map[string]any{"removals": true}
			}, "not what the specs produce"},
			{"reverted commit", func(g *gitRun) {
				g.write("specs/algo.yaml", evil)
				g.commit("make 90153486 manager")
				g.plan()
				g.write("specs/algo.yaml", savedPlanSpecs["specs/algo.yaml"])
				g.commit("Revert \"make 90153486 manager\"")
			}, nil, "made from other specs at commit"},
			{"uncommitted edit here", func(g *gitRun) {
				g.plan()
				g.write("specs/algo.yaml", evil)
			}, nil, "uncommitted changes: specs/algo.yaml"},
		} {
			name := tt.name
			if signed {
				name += ", signed"
			}
			t.Run(name, func(t *testing.T) {
				g := newGitRun(t, files)
				if signed {
					g.r.env = map[string]string{"ENROLCTL_PLAN_KEY": key}
				}
				mainDigest = g.mainDigest()
				tt.made(g)
				if tt.edit != nil {
					g.r.editPlan(tt.edit)
				}
				before := g.r.maybeRead(".enrolctl/sandbox.json")
				code := g.r.run("apply", "plan.json")
				out := g.r.out.String()
				want := tt.want
				if signed && tt.edit != nil {
					want = "signature does not match" // the attacker cannot sign the edit
				}
				if code != 1 || !strings.Contains(out, want) {
					t.Fatalf("apply: exit %d, want 1 with %q; output:\n%s", code, want, out)
				}
				if !bytes.Equal(before, g.r.maybeRead(".enrolctl/sandbox.json")) {
					t.Error("the sandbox Moodle changed")
				}
				if strings.Contains(out, key) {
					t.Error("the output holds the key")
				}
			})
		}
	}
}

// mainDigest is the digest a plan of main's specs records (set by each case).
var mainDigest string

// After the merge, the reviewed plan applies from the merged specs whatever the merge
// strategy, even where its commit is absent: a squash commit in a depth-1 clone holds
// the same specs under another commit, and the plan's commit is in no history.
func TestReviewedPlanAppliesAfterSquashInShallowClone(t *testing.T) {
	renewOther := strings.ReplaceAll(savedPlanSpecs["specs/algo.yaml"], "21009539", "22156420")
	g := newGitRun(t, map[string]string{"specs/algo.yaml": savedPlanSpecs["specs/algo.yaml"]})
	g.branch("renew-other")
	g.write("specs/algo.yaml", renewOther)
	g.commit("renew 22156420")
	g.plan()
	// The CI clone after a squash merge: one commit, not the branch's, no history.
	if err := os.RemoveAll(filepath.Join(g.r.dir, ".git")); err != nil {
		t.Fatal(err)
	}
	g2 := &gitRun{t: t, r: g.r}
	g2.init()
	g2.commit("Renew 22156420 (!7)")
	if code := g.r.run("apply", "plan.json"); code != 0 || !strings.Contains(g.r.out.String(), "course L1-INFO-ALGO: 1 applied") {
		t.Fatalf("apply of the reviewed plan after a squash, depth 1: exit %d\n%s", code, g.r.out.String())
	}
	// A CI retry of the same apply: already applied, exit 0, nothing written.
	before := g.r.maybeRead(".enrolctl/sandbox.json")
	if code := g.r.run("apply", "plan.json"); code != 0 || !strings.Contains(g.r.out.String(), "plan.json is already applied") {
		t.Fatalf("apply again: exit %d\n%s", code, g.r.out.String())
	}
	if !bytes.Equal(before, g.r.maybeRead(".enrolctl/sandbox.json")) {
		t.Error("the sandbox Moodle changed on the retry")
	}
}

// gitRun is a sandbox run in a git repository with a main branch.
type gitRun struct {
	t    *testing.T
	r    *sandboxRun
	repo *git.Repository
}

func newGitRun(t *testing.T, files map[string]string) *gitRun {
	g := &gitRun{t: t, r: newSandboxRun(t, files)}
	g.init()
	g.commit("main")
	return g
}

func (g *gitRun) init() {
	repo, err := git.PlainInit(g.r.dir, false)
	if err != nil {
		g.t.Fatal(err)
	}
	g.repo = repo
}

func (g *gitRun) write(name, content string) {
	if err := os.WriteFile(filepath.Join(g.r.dir, name), []byte(content), 0o644); err != nil {
		g.t.Fatal(err)
	}
}

func (g *gitRun) commit(msg string) {
	wt, _ := g.repo.Worktree()
	if _, err := wt.Add("specs"); err != nil {
		g.t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(g.r.dir, "enrolctl.yaml")); err == nil {
		wt.Add("enrolctl.yaml") // the configuration is reviewed with the specs
	}
	if _, err := wt.Commit(msg, &git.CommitOptions{Author: &object.Signature{Name: "t", Email: "t@x", When: time.Unix(0, 0)}}); err != nil {
		g.t.Fatal(err)
	}
}

func (g *gitRun) branch(name string) {
	wt, _ := g.repo.Worktree()
	if err := wt.Checkout(&git.CheckoutOptions{Branch: plumbing.NewBranchReferenceName(name), Create: true}); err != nil {
		g.t.Fatal(err)
	}
}

func (g *gitRun) checkoutMain() {
	wt, _ := g.repo.Worktree()
	if err := wt.Checkout(&git.CheckoutOptions{Branch: plumbing.Master, Force: true}); err != nil {
		g.t.Fatal(err)
	}
}

// plan saves the plan of the checked-out specs to plan.json.
func (g *gitRun) plan() {
	if code := g.r.run("plan", "--course", "L1-INFO-ALGO", "-out", "plan.json"); code != 0 {
		g.t.Fatalf("plan: exit %d\n%s", code, g.r.out.String())
	}
}

// mainDigest is the specs digest of a plan of main's specs.
func (g *gitRun) mainDigest() string {
	g.plan()
	var p struct {
		Digest string `json:"specs_digest"`
	}
	if err := json.Unmarshal(g.r.read("plan.json"), &p); err != nil || p.Digest == "" {
		g.t.Fatalf("no digest in main's plan: %v", err)
	}
	return p.Digest
}

// branchPlan plans specs on a branch, then checks main out again.
func branchPlan(specs string) func(g *gitRun) {
	return func(g *gitRun) {
		g.branch("evil")
		g.write("specs/algo.yaml", specs)
		g.commit("make 90153486 manager")
		g.plan()
		plan := g.r.read("plan.json") // the CI artifact, outside the checkout
		g.checkoutMain()
		g.write("plan.json", string(plan))
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
