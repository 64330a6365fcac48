package apply

import (
	"bytes"
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/enrolctl/enrolctl/internal/diff"
	"github.com/enrolctl/enrolctl/internal/planfile"
	"github.com/enrolctl/enrolctl/internal/state"
)

// fuzzWorld is a small live course and the specs' desired state for it: a renewal, a
// new enrolment, a removal, a group and a membership.
func fuzzWorld() (desired, live state.Snapshot) {
	end := time.Date(2026, 6, 30, 0, 0, 0, 0, time.UTC).Unix()
	renew := time.Date(2027, 6, 30, 0, 0, 0, 0, time.UTC).Unix()
	live = state.Snapshot{
		Courses: []state.Course{{Shortname: "L1-ALGO", ID: 2,
			Methods:    []state.Method{{Type: state.Manual, Enabled: true, ID: 10}, {Type: state.Cohort, Cohort: "L1", Role: "student", Enabled: true, ID: 11}},
			Enrolments: []state.Enrolment{{Username: "u1", Method: "manual", Roles: []string{"student"}, End: end}, {Username: "u2", Method: "manual", Roles: []string{"student"}, End: end}, {Username: "u3", Method: "cohort:L1:student", Roles: []string{"student"}}},
		}},
		Directory: state.Directory{Users: map[string]int64{"u1": 1, "u2": 2, "u3": 3, "u4": 4, "admin": 100}, Roles: map[string]int64{"student": 5, "manager": 1},
			Courses: map[string]int64{"L1-ALGO": 2}, Cohorts: map[string]state.CohortInfo{"L1": {ID: 7}}},
	}
	desired = state.Snapshot{Courses: []state.Course{{Shortname: "L1-ALGO", Options: state.Options{ManualPrune: state.PruneUnenrol, MethodsPrune: true, Protect: true},
		Methods:    []state.Method{{Type: state.Manual, Enabled: true}},
		Enrolments: []state.Enrolment{{Username: "u1", Method: "manual", Roles: []string{"student"}, End: renew}, {Username: "u4", Method: "manual", Roles: []string{"student"}, End: renew}},
		Groups:     []state.Group{{Name: "TP1", Members: []state.Member{{Username: "u4"}}}},
	}}}
	desired.Normalize()
	return desired, live
}

// FuzzSavedPlan feeds arbitrary plan files through everything apply does with one
// before its first write: reading, validation, the staleness check, verification
// against the specs' plan, the guard and building every write item. None may panic,
// and whatever passes verification must be exactly changes the specs produce.
func FuzzSavedPlan(f *testing.F) {
	desired, live := fuzzWorld()
	fresh := diff.Compute(desired, live)
	fresh.Protected = []string{"L1-ALGO"}
	c, _ := live.Course("L1-ALGO")
	good := fresh
	good.Commit = "abc"
	good.Fingerprints = map[string]string{"L1-ALGO": c.ManagedFingerprint()}
	seed, _ := json.Marshal(good)
	f.Add(seed)
	var doc bytes.Buffer
	if err := planfile.Encode(&doc, good); err != nil {
		f.Fatal(err)
	}
	f.Add(doc.Bytes())
	f.Add([]byte(`{"format_version":"1","changes":[{"address":"course/L1-ALGO/enrolment/manual/u1","course":"L1-ALGO","kind":"enrolment","action":"update"}],"fingerprints":{"L1-ALGO":"x"}}`))
	f.Add([]byte(`{"changes":[{"kind":"membership","action":"create","course":"L1-ALGO","address":"course/L1-ALGO/group/TP1/member/u4","member":{}}]}`))
	f.Add([]byte(`{"changes":[null,{}],"protected":null,"fingerprints":{"":""}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		// The CLI reads plan files with planfile.Decode, the one validator of a plan
		// file; apply must hold for whatever it accepts.
		p, err := planfile.Decode(data)
		if err != nil {
			return
		}
		_ = CheckStale(p, live)
		verified, err := VerifySaved(p, fresh, live)
		if err != nil {
			var forged *ForgedChangeError
			if !errors.As(err, &forged) {
				t.Fatalf("VerifySaved error of an unexpected type: %v", err)
			}
			return
		}
		for _, ch := range verified.Changes {
			if !sameChangeIn(fresh, ch) {
				t.Fatalf("verified change %s %s is not one of the specs' plan", ch.Action, ch.Address)
			}
		}
		if len(verified.Changes) > 0 && Guard(verified, live, Limits{AllowRemovals: true}) == nil && verified.Changes[0].Course == "L1-ALGO" && hasRemoval(verified) {
			t.Fatal("a removal in the protected course passed the guard")
		}
		r := &runner{plan: verified, dir: live.Directory, courses: map[string]*courseRun{}, res: Result{Changes: make([]ChangeResult, len(verified.Changes))}}
		for _, ch := range verified.Changes {
			cr := &courseRun{}
			if lc, ok := live.Course(ch.Course); ok {
				cr.set(*lc)
			}
			r.courses[ch.Course] = cr
		}
		for _, ch := range verified.Changes {
			_, _ = r.item(r.courses[ch.Course], ch)
		}
	})
}

func sameChangeIn(p diff.Plan, c diff.Change) bool {
	for _, f := range p.Changes {
		if f.Address == c.Address && sameChange(f, c) {
			return true
		}
	}
	return false
}

func hasRemoval(p diff.Plan) bool {
	for _, c := range p.Changes {
		if c.IsRemoval() {
			return true
		}
	}
	return false
}
