package spec

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

var paris = mustLocation("Europe/Paris")

func mustLocation(name string) *time.Location {
	loc, err := time.LoadLocation(name)
	if err != nil {
		panic(err)
	}
	return loc
}

// diagStrings renders diagnostics the way the CLI prints them.
func diagStrings(ds Diagnostics) []string {
	var out []string
	for _, d := range ds {
		out = append(out, d.Error())
	}
	return out
}

func lines(s ...string) string { return strings.Join(s, "\n") + "\n" }

// TestFileErrors checks that every mistake in one file is reported at the right place
// with the right words.
func TestFileErrors(t *testing.T) {
	tests := []struct {
		name, file, src string
		want            []string
	}{
		{"unknown field", "c.yaml", lines("course: A", "methds: []"), []string{"c.yaml:2:1: unknown field \"methds\" in course spec (did you mean \"methods\"?)"}},
		{"unknown field in user", "c.yaml", lines("course: A", "manual:", "  users:", "    - username: u1", "      rol: student"), []string{"c.yaml:5:7: unknown field \"rol\" in user (did you mean \"role\"?)"}},
		{"duplicate key", "c.yaml", lines("course: A", "protect: true", "protect: false"), []string{"c.yaml:3:1: duplicate key \"protect\" (first at line 2)"}},
		{"wrong type bool", "c.yaml", lines("course: A", "protect: yes"), []string{"c.yaml:2:10: protect must be true or false, not \"yes\""}},
		{"wrong type list", "c.yaml", lines("course: A", "methods:", "  type: cohort"), []string{"c.yaml:3:3: methods must be a list, not a mapping"}},
		{"wrong type int", "c.yaml", lines("course: A", "methods:", "  - type: self", "    name: S", "    max_users: lots"), []string{"c.yaml:5:16: max_users must be a whole number (0 or more), not \"lots\""}},
		{"bad date", "c.yaml", lines("course: A", "manual:", "  until: 2027-02-30"), []string{"c.yaml:3:10: until: bad date \"2027-02-30\": not a day of the calendar (YYYY-MM-DD)"}},
		{"role in French", "c.yaml", lines("course: A", "manual:", "  role: etudiant"), []string{"c.yaml:3:9: unknown role \"etudiant\": neither a standard Moodle role nor one of the configuration's roles; a role your site has is declared in enrolctl.yaml, under roles: (in defaults or the site) (did you mean \"student\"?)"}},
		{"bad date format", "c.yaml", lines("course: A", "manual:", "  until: 30/06/2027"), []string{"c.yaml:3:10: until: bad date \"30/06/2027\": use YYYY-MM-DD, an RFC 3339 timestamp (2027-06-30T18:00:00+02:00) or never (did you mean \"2027-06-30\"?)"}},
		{"duration refused", "c.yaml", lines("course: A", "manual:", "  until: 365d"), []string{"c.yaml:3:10: until: \"365d\" is a duration; specs take dates (YYYY-MM-DD, an RFC 3339 timestamp or never) so that a plan does not change from one day to the next (enrolctl import csv turns enrolment periods into dates)"}},
		{"never as start", "c.yaml", lines("course: A", "manual:", "  from: never"), []string{"c.yaml:3:9: from: \"never\" only applies to until (no end date); leave from out for no start date"}},
		{"user until before default from", "c.yaml", lines("course: A", "manual:", "  from: 2027-01-10", "  users:", "    - username: u1", "      until: 2027-01-05"), []string{`c.yaml:6:14: course "A": user "u1" would end (2027-01-05) before they start (2027-01-10 at c.yaml:3:9)`}},
		{"until before from", "c.yaml", lines("course: A", "manual:", "  from: 2027-01-10", "  until: 2027-01-09"), []string{"c.yaml:4:10: until 2027-01-09 is not after from 2027-01-10"}},
		{"unknown method type", "c.yaml", lines("course: A", "methods:", "  - type: cohrt", "    cohort: X"), []string{"c.yaml:3:11: unknown method type \"cohrt\": use one of manual, self, guest, cohort, meta, database (did you mean \"cohort\"?)"}},
		{"missing method type", "c.yaml", lines("course: A", "methods:", "  - cohort: X"), []string{"c.yaml:3:5: method: missing required field \"type\" (one of manual, self, guest, cohort, meta, database)"}},
		{"unknown prune mode", "c.yaml", lines("course: A", "manual:", "  prune: delete"), []string{"c.yaml:3:10: unknown prune mode \"delete\": use one of keep, suspend, unenrol"}},
		{"missing cohort", "c.yaml", lines("course: A", "methods:", "  - type: cohort", "    role: student"), []string{"c.yaml:3:5: cohort method: missing required field \"cohort\""}},
		{"missing self name", "c.yaml", lines("course: A", "methods:", "  - type: self"), []string{"c.yaml:3:5: self method: missing required field \"name\""}},
		{"missing course", "c.yaml", lines("manual:", "  role: student"), []string{"c.yaml:1:1: missing course: (a course spec) or policy: (a policy)"}},
		{"unknown role", "c.yaml", lines("course: A", "manual:", "  role: studnet"), []string{"c.yaml:3:9: unknown role \"studnet\": neither a standard Moodle role nor one of the configuration's roles (did you mean \"student\"?)"}},
		{"unknown role in method", "c.yaml", lines("course: A", "methods:", "  - type: cohort", "    cohort: X", "    role: editingteachr"), []string{"c.yaml:5:11: unknown role \"editingteachr\": neither a standard Moodle role nor one of the configuration's roles (did you mean \"editingteacher\"?)"}},
		{"extra role allowed", "c.yaml", lines("course: A", "manual:", "  users:", "    - username: u1", "      role: tutor"), nil},
		{"uppercase username", "c.yaml", lines("course: A", "manual:", "  users:", "    - DupontJ"), []string{"c.yaml:4:7: username \"DupontJ\" has capital letters; Moodle usernames are lower case (did you mean \"dupontj\"?)"}},
		{"username with space", "c.yaml", lines("course: A", "manual:", "  users:", "    - username: jean dupont"), []string{"c.yaml:4:17: username \"jean dupont\" contains a space; Moodle usernames have none"}},
		{"duplicate cohort method", "c.yaml", lines("course: A", "methods:", "  - type: cohort", "    cohort: X", "  - type: cohort", "    cohort: X", "    role: student"), []string{"c.yaml:5:11: cohort method (cohort \"X\", role \"student\") is declared twice in this file (first at c.yaml:3:11)"}},
		{"duplicate manual method", "c.yaml", lines("course: A", "methods:", "  - type: manual", "  - type: manual", "    enabled: false"), []string{"c.yaml:4:11: manual method is declared twice in this file (first at c.yaml:3:11)"}},
		{"same cohort other role", "c.yaml", lines("course: A", "methods:", "  - type: cohort", "    cohort: X", "  - type: cohort", "    cohort: X", "    role: teacher"), nil},
		{"user twice", "c.yaml", lines("course: A", "manual:", "  users:", "    - u1", "    - username: u1", "      role: teacher"), []string{"c.yaml:5:17: user \"u1\" is listed twice in this course (first at c.yaml:4:7)"}},
		{"role on manual method", "c.yaml", lines("course: A", "methods:", "  - type: manual", "    role: student"), []string{"c.yaml:4:5: the manual method takes no role: set manual.role, the default role of the users listed under manual"}},
		{"enabled on database", "c.yaml", lines("course: A", "methods:", "  - type: database", "    enabled: true"), []string{"c.yaml:4:5: the database method is never changed by enrolctl, only checked: remove enabled"}},
		{"field of another type", "c.yaml", lines("course: A", "methods:", "  - type: meta", "    course: B", "    cohort: X"), []string{"c.yaml:5:5: field \"cohort\" does not apply to a meta method (only to cohort)"}},
		{"meta to itself", "c.yaml", lines("course: A", "methods:", "  - type: meta", "    course: A"), []string{"c.yaml:4:13: a meta method links another course; \"A\" is this course"}},
		{"undeclared group", "c.yaml", lines("course: A", "groups: [TP1]", "manual:", "  users:", "    - username: u1", "      groups: [TP01]"), []string{"c.yaml:6:16: group \"TP01\" is not declared in this course's groups (did you mean \"TP1\"?)"}},
		{"group listed twice", "c.yaml", lines("course: A", "groups: [TP1, TP1]"), []string{"c.yaml:2:15: group \"TP1\" is declared twice (first at c.yaml:2:10)"}},
		{"policy lists users", "p.yaml", lines("policy: p", "courses:", "  shortname: A-*", "manual:", "  users: [u1]"), []string{"p.yaml:5:3: a policy sets defaults for many courses and lists no users: list users in each course's spec"}},
		{"policy without selector", "p.yaml", lines("policy: p", "manual:", "  until: never"), []string{"p.yaml:1:9: policy \"p\" selects no courses: add courses: with category, shortname or list"}},
		{"policy bad glob", "p.yaml", lines("policy: p", "courses:", "  shortname: \"A-[\""), []string{"p.yaml:3:14: shortname: bad pattern \"A-[\": syntax error in pattern"}},
		{"course and policy", "c.yaml", lines("course: A", "policy: p"), []string{"c.yaml:2:1: a file is either a course spec (course:) or a policy (policy:), not both"}},
		{"not a mapping", "c.yaml", lines("- course: A"), []string{"c.yaml:1:1: a spec file holds a mapping with course: (a course spec) or policy: (a policy), not a list"}},
		{"yaml syntax", "c.yaml", lines("course: A", "manual:", "  users: [u1", "protect: true"), []string{"c.yaml:3:1: invalid YAML: did not find expected ',' or ']'"}},
		{"bad indentation", "c.yaml", "course: A\nmanual:\n  until: 2027-06-30\n   role: student\n", []string{"c.yaml:4:4: invalid YAML: bad indentation: this line is indented by 3 space(s), which matches no key above it; indent it like the key it belongs under"}},
		{"day without leading zeros", "c.yaml", "course: A\nmanual:\n  until: 2027-6-30\n", []string{`c.yaml:3:10: until: bad date "2027-6-30": use YYYY-MM-DD, an RFC 3339 timestamp (2027-06-30T18:00:00+02:00) or never (did you mean "2027-06-30"?)`}},
		{"Never", "c.yaml", "course: A\nmanual:\n  until: Never\n", []string{`c.yaml:3:10: until: bad date "Never": use YYYY-MM-DD, an RFC 3339 timestamp (2027-06-30T18:00:00+02:00) or never (did you mean "never"?)`}},
		{"site role", "c.yaml", "course: A\nmanual:\n  role: observateur\n", []string{`c.yaml:3:9: unknown role "observateur": neither a standard Moodle role nor one of the configuration's roles; a role your site has is declared in enrolctl.yaml, under roles: (in defaults or the site)`}},
		{"tab indentation", "c.yaml", "course: A\nmanual:\n\trole: student\n", []string{"c.yaml:3:1: invalid YAML: a tab in the indentation: YAML indents with spaces only (replace the tab by spaces)"}},
		{"hcl unknown attribute", "c.hcl", lines(`course "A" {`, `  method "cohort" {`, `    cohrt = "X"`, `  }`, `}`), []string{"c.hcl:2:3: cohort method: missing required field \"cohort\"", "c.hcl:3:5: unknown field \"cohrt\" in cohort method (did you mean \"cohort\"?)"}},
		{"hcl unknown block", "c.hcl", lines(`course "A" {`, `  metod "cohort" {}`, `}`), []string{"c.hcl:2:3: unknown block \"metod\" in course spec (did you mean \"method\"?)"}},
		{"hcl missing label", "c.hcl", lines(`course "A" {`, `  method {}`, `}`), []string{"c.hcl:2:3: a method block takes one label (method \"type\" {...})"}},
		{"hcl bad date", "c.hcl", lines(`course "A" {`, `  manual {`, `    until = "2027-06-31"`, `  }`, `}`), []string{"c.hcl:3:13: until: bad date \"2027-06-31\": not a day of the calendar (YYYY-MM-DD)"}},
		{"hcl uppercase user", "c.hcl", lines(`course "A" {`, `  manual {`, `    user "DupontJ" {}`, `  }`, `}`), []string{"c.hcl:3:10: username \"DupontJ\" has capital letters; Moodle usernames are lower case (did you mean \"dupontj\"?)"}},
		{"hcl syntax error", "c.hcl", lines(`course "A" {`, `  manual {`, `    role = `, `}`), []string{"c.hcl:3:12: Invalid expression: Expected the start of an expression, but found an invalid expression token."}},
		{"hcl unknown function", "c.hcl", lines(`course "A" {`, `  manual {`, `    role = lowr("STUDENT")`, `  }`, `}`), []string{"c.hcl:3:12: Call to unknown function: There is no function named \"lowr\". Did you mean \"lower\"?"}},
		{"hcl unknown variable", "c.hcl", lines(`course "A" {`, `  manual {`, `    until = local.end`, `  }`, `}`), []string{"c.hcl:3:18: Unsupported attribute: This object does not have an attribute named \"end\"."}},
		{"hcl wrong type", "c.hcl", lines(`course "A" {`, `  protect = "yes"`, `}`), []string{"c.hcl:2:13: protect must be true or false, not \"yes\""}},
		{"hcl duplicate manual", "c.hcl", lines(`course "A" {`, `  manual {}`, `  manual {}`, `}`), []string{"c.hcl:3:3: duplicate manual block (first at line 2)"}},
		{"hcl duplicate attribute", "c.hcl", lines(`course "A" {`, `  protect = true`, `  protect = false`, `}`), []string{"c.hcl:3:3: Attribute redefined: The argument \"protect\" was already set at c.hcl:2,3-10. Each argument may be set only once."}},
		{"hcl unknown top-level block", "c.hcl", lines(`cours "A" {}`), []string{"c.hcl:1:1: unknown block \"cours\" in HCL spec file (did you mean \"course\"?)"}},
		{"hcl label and attribute", "c.hcl", lines(`course "A" {`, `  method "self" {`, `    type = "self"`, `    name = "S"`, `  }`, `}`), []string{"c.hcl:3:5: type is given by the block label; remove this field"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			set := LoadBytes(tt.file, []byte(tt.src), Options{Location: paris, Roles: []string{"tutor"}})
			courses, ds := Resolve(set, nil)
			if d := cmp.Diff(tt.want, diagStrings(ds)); d != "" {
				t.Errorf("diagnostics (-want +got):\n%s", d)
			}
			sameCheck(t, set, nil, courses, ds)
			// Comment masking reads the user a diagnostic is about from its subject.
			for _, d := range ds {
				if _, rest, ok := strings.Cut(d.Message, `user "`); ok {
					if user, _, _ := strings.Cut(rest, `"`); d.Subject.User != user || d.Code == "" {
						t.Errorf("%s: code %q, subject %+v; want a code and user %q", d.Message, d.Code, d.Subject, user)
					}
				}
			}
		})
	}
}

// A user listed twice is found in a long list too (read with a map, not a scan).
func TestUserTwiceInLongList(t *testing.T) {
	src := "course: A\nmanual:\n  users:\n"
	for i := range 20 {
		src += fmt.Sprintf("    - u%d\n", i)
	}
	src += "    - u3\n"
	set := LoadBytes("c.yaml", []byte(src), Options{})
	want := []string{`c.yaml:24:7: user "u3" is listed twice in this course (first at c.yaml:7:7)`}
	if d := cmp.Diff(want, diagStrings(set.Diagnostics)); d != "" {
		t.Errorf("diagnostics (-want +got):\n%s", d)
	}
}
