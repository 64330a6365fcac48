package e2e

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/enrolctl/enrolctl/internal/cli"
	"github.com/enrolctl/enrolctl/internal/render"
	"github.com/enrolctl/enrolctl/internal/state"
)

// explain, the command, against the site: every live enrolment of a user (a suspended
// one included, which Moodle's own core_enrol_get_users_courses would not list), the
// spec line owning each, an enrolment no spec manages, and the change the specs plan
// for the user, as plan words it.
func TestExplain(t *testing.T) {
	each(t, func(t *testing.T, tg *target) {
		w := newWorld(t, tg)
		users := w.users(t, 2)
		cohort := w.cohort(t, users[1:])
		managed, other := w.course(t), w.course(t)
		june27 := endOf(2027, time.June, 30)
		w.convergeAll(t, []state.Course{
			{Shortname: managed,
				Methods: []state.Method{{Type: state.Manual, Enabled: true},
					{Type: state.Cohort, Cohort: cohort, Role: "student", Enabled: true}},
				Enrolments: []state.Enrolment{manual(users[0], "student", june27)},
				Groups:     []state.Group{{Name: "TP1", Members: []state.Member{{Username: users[0]}}}}},
			// Enrolled by hand elsewhere, suspended, and no spec says so.
			{Shortname: other, Methods: []state.Method{{Type: state.Manual, Enabled: true}},
				Enrolments: []state.Enrolment{{Username: users[0], Method: "manual", Roles: []string{"teacher"}, Suspended: true}}},
		})

		// The specs keep users[0] a year longer and declare the cohort sync.
		dir := t.TempDir()
		write := func(name, text string) {
			t.Helper()
			p := filepath.Join(dir, name)
			if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		write("enrolctl.yaml", fmt.Sprintf("defaults:\n  timezone: Europe/Paris\nsites:\n  e2e:\n    url: %s\n    token_env: E2E_EXPLAIN_TOKEN\n", tg.url))
		write("specs/managed.yaml", fmt.Sprintf(`course: %s
methods:
  - type: cohort
    cohort: %s
manual:
  role: student
  until: 2028-06-30
  users:
    - username: %s
      groups: [TP1]
`, managed, cohort, users[0]))
		run := func(args ...string) (int, string, string) {
			var out, errb bytes.Buffer
			app := &cli.App{Streams: cli.Streams{In: strings.NewReader(""), Out: &out, Err: &errb}, Dir: dir,
				Getenv: func(k string) string {
					if k == "E2E_EXPLAIN_TOKEN" {
						return tg.token
					}
					return ""
				}}
			code := app.Run(args)
			if strings.Contains(out.String()+errb.String(), tg.token) {
				t.Errorf("explain %v printed the token", args)
			}
			return code, out.String(), errb.String()
		}

		code, out, errs := run("explain", users[0], "-o", "json")
		if code != 0 {
			t.Fatalf("explain exited %d: %s%s", code, out, errs)
		}
		var x render.Explanation
		if err := json.Unmarshal([]byte(out), &x); err != nil {
			t.Fatalf("explain -o json: %v\n%s", err, out)
		}
		if x.FormatVersion != render.ExplainFormatVersion || x.Site != "e2e" || x.User != users[0] || x.Timezone != "Europe/Paris" {
			t.Errorf("explain document header = %+v", x)
		}
		want := []render.ExplainedEnrolment{
			{Course: managed, Method: "manual", Kind: "manual", Status: "active", Start: "none", End: "2027-06-30",
				Roles: []string{"student"}, Groups: []string{"TP1"}, Owner: "specs/managed.yaml:9:17"},
			{Course: other, Method: "manual", Kind: "manual", Status: "suspended", Start: "none", End: "never",
				Roles: []string{"teacher"}, Groups: []string{}, Owner: ""},
		}
		slices.SortFunc(x.Enrolments, func(a, b render.ExplainedEnrolment) int { return strings.Compare(a.Course, b.Course) })
		if fmt.Sprint(x.Enrolments) != fmt.Sprint(want) {
			t.Errorf("enrolments:\n got %+v\nwant %+v", x.Enrolments, want)
		}
		wantChange := render.ExplainedChange{Course: managed, Address: state.EnrolmentAddress(managed, "manual", users[0]),
			Action: "update", Text: "~ enrolment manual/" + users[0] + "  end: 2027-06-30 → 2028-06-30"}
		if len(x.Changes) != 1 || x.Changes[0] != wantChange {
			t.Errorf("changes = %+v, want [%+v]", x.Changes, wantChange)
		}

		// The cohort member's enrolment is owned by the method's line; one course only.
		code, out, errs = run("explain", users[1], managed)
		if code != 0 {
			t.Fatalf("explain %s %s exited %d: %s%s", users[1], managed, code, out, errs)
		}
		for _, line := range []string{
			"  cohort:" + cohort + ":student  active, start none, end never, roles student, groups none\n",
			"    owned by specs/managed.yaml:3:11\n",
			"The specs change nothing for " + users[1] + ".\n",
		} {
			if !strings.Contains(out, line) {
				t.Errorf("explain text lacks %q:\n%s", line, out)
			}
		}

		// An unknown user: exit 1, the near miss named.
		code, _, errs = run("explain", users[0]+"x", managed)
		if code != 1 || !strings.Contains(errs, fmt.Sprintf("did you mean %q?", users[0])) {
			t.Errorf("unknown user: exit %d, stderr %q", code, errs)
		}
	})
}
