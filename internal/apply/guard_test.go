package apply_test

import (
	"strings"
	"testing"

	"github.com/enrolctl/enrolctl/internal/apply"
	"github.com/enrolctl/enrolctl/internal/diff"
	"github.com/enrolctl/enrolctl/internal/render"
	"github.com/enrolctl/enrolctl/internal/state"
)

// The guard refuses what the limits forbid, and its refusals are worded (by render)
// with the numbers a reviewer needs.
func TestGuard(t *testing.T) {
	obs := state.Snapshot{Courses: []state.Course{{Shortname: "BIG", Enrolments: make([]state.Enrolment, 100)}, {Shortname: "SMALL", Enrolments: make([]state.Enrolment, 8)},
		{Shortname: "MID", Enrolments: make([]state.Enrolment, 50)}, {Shortname: "MID2", Enrolments: make([]state.Enrolment, 50)}}}
	def := apply.DefaultLimits()
	removal := func(course string, n int) diff.Change {
		return diff.Change{Course: course, Kind: diff.KindMethod, Action: diff.Delete, Address: "course/" + course + "/method/x", Removes: &diff.Removal{Enrolments: n}}
	}
	tests := []struct {
		name      string
		changes   []diff.Change
		protected []string
		limits    apply.Limits
		wantErr   string
	}{
		{"few removals pass", []diff.Change{removal("BIG", 5)}, nil, def, ""},
		{"above the count", []diff.Change{removal("BIG", 11)}, nil, def, "course BIG: 11 of 100 enrolments would be removed or suspended (11%), above the limit of 10 or 20%; re-run with --allow-removals"},
		{"above the share", []diff.Change{removal("SMALL", 3)}, nil, def, "course SMALL: 3 of 8 enrolments"},
		{"one removal in a tiny course passes", []diff.Change{removal("SMALL", 2)}, nil, def, ""},
		{"allowed", []diff.Change{removal("BIG", 60)}, nil, apply.Limits{AllowRemovals: true}, ""},
		{"custom count", []diff.Change{removal("BIG", 15)}, nil, apply.Limits{MaxRemovals: 20, MaxShare: 0.5, MaxSiteRemovals: 20}, ""},
		{"zero means none allowed", []diff.Change{removal("BIG", 1)}, nil, apply.Limits{MaxRemovals: 0, MaxShare: 0.2, MaxSiteRemovals: 20}, "course BIG: 1 of 100 enrolments would be removed or suspended (1%), above the limit of 0"},
		{"site-wide limit across courses", []diff.Change{removal("BIG", 8), removal("SMALL", 2), removal("MID", 9), removal("MID2", 9)}, nil, def,
			"across 4 course(s), 28 enrolments would be removed or suspended, above the site-wide limit of 20"},
		{"site-wide limit lifted by --allow-removals", []diff.Change{removal("BIG", 8), removal("MID", 9), removal("MID2", 9)}, nil, apply.Limits{AllowRemovals: true}, ""},
		{"protected refuses even one, even allowed", []diff.Change{removal("BIG", 1)}, []string{"BIG"}, apply.Limits{AllowRemovals: true}, "course BIG is protected (protect: true): 1 removal(s) planned"},
		{"protected course without removals passes", []diff.Change{{Course: "BIG", Action: diff.Create, Kind: diff.KindGroup}}, []string{"BIG"}, def, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := diff.Plan{Changes: tt.changes, Protected: tt.protected}
			err := apply.Guard(p, obs, tt.limits)
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("Guard: %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(render.Refused(err).Error(), tt.wantErr) {
				t.Fatalf("Guard error = %v, worded %q, want containing %q", err, render.Refused(err).Error(), tt.wantErr)
			}
		})
	}
}
