package spec

import (
	"bytes"
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/enrolctl/enrolctl/internal/golden"

	"github.com/google/go-cmp/cmp"

	"github.com/enrolctl/enrolctl/internal/diag"
	"github.com/enrolctl/enrolctl/internal/state"
)

// siteCatalogue is the live catalogue the golden fixtures are resolved against.
var siteCatalogue = append(catalogue, CourseRef{Shortname: "L1-INFO-WEB", Category: "Ecampus / Sciences / L1 Informatique"})

// renderDesired prints desired state as JSON followed by where each object was
// declared (Sources are not part of the JSON form).
func renderDesired(courses []state.Course) []byte {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetIndent("", "  ")
	if err := enc.Encode(courses); err != nil {
		panic(err)
	}
	b.WriteString("\n# sources\n")
	for _, c := range courses {
		fmt.Fprintf(&b, "%s %v\n", c.Address(), c.Sources)
		for _, m := range c.Methods {
			fmt.Fprintf(&b, "%s %s\n", state.MethodAddress(c.Shortname, m.Key()), diag.Pos(m.Source))
		}
		for _, e := range c.Enrolments {
			fmt.Fprintf(&b, "%s %s\n", state.EnrolmentAddress(c.Shortname, e.Method, e.Username), diag.Pos(e.Source))
		}
		for _, g := range c.Groups {
			fmt.Fprintf(&b, "%s %s\n", state.GroupAddress(c.Shortname, g.Name), diag.Pos(g.Source))
			for _, m := range g.Members {
				fmt.Fprintf(&b, "%s %s\n", state.MemberAddress(c.Shortname, g.Name, m.Username), diag.Pos(m.Source))
			}
		}
	}
	return b.Bytes()
}

func TestGoldenSite(t *testing.T) {
	set := LoadDir(filepath.Join("testdata", "site"), Options{Location: paris, Roles: []string{"tutor"}})
	got, ds := Resolve(set, siteCatalogue)
	if ds.HasErrors() {
		t.Fatalf("diagnostics:\n%v", ds)
	}
	sameCheck(t, set, siteCatalogue, got, ds)
	offline, ds0 := Resolve(set, nil)
	sameCheck(t, set, nil, offline, ds0)
	// The one warning: the policy's manual.until cannot reach L1-INFO-WEB, which has no spec.
	if len(ds) != 1 || !strings.Contains(ds[0].Error(), "(L1-INFO-WEB), where this changes nothing") {
		t.Fatalf("want one warning about L1-INFO-WEB, got:\n%v", ds)
	}
	golden.Check(t, filepath.Join("testdata", "site.golden"), renderDesired(got))
}

// TestYAMLAndHCLAgree loads the same course written in both syntaxes.
func TestYAMLAndHCLAgree(t *testing.T) {
	var got [2][]state.Course
	for i, dir := range []string{"yaml", "hcl"} {
		set := LoadDir(filepath.Join("testdata", "same", dir), Options{Location: paris})
		var ds Diagnostics
		got[i], ds = Resolve(set, siteCatalogue)
		if len(ds) != 0 {
			t.Fatalf("%s: %v", dir, ds)
		}
	}
	// Sources differ (other file, other lines); everything else must be equal.
	a, _ := json.Marshal(got[0])
	b, _ := json.Marshal(got[1])
	if d := cmp.Diff(string(a), string(b)); d != "" {
		t.Errorf("YAML and HCL disagree (-yaml +hcl):\n%s", d)
	}
	if len(got[0]) != 1 || len(got[0][0].Enrolments) != 4 {
		t.Errorf("unexpected desired state: %+v", got[0])
	}
}
