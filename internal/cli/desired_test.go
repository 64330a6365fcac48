package cli

import (
	"testing"

	"github.com/enrolctl/enrolctl/internal/spec"
)

// Specs read before the site's roles are known are kept only when reading them
// against those roles cannot differ: no error offline, every standard role on the site.
func TestSameAsOnline(t *testing.T) {
	valid := "course: C1\nmanual:\n  users:\n    - { username: u1, role: teacher }\n"
	badRole := "course: C1\nmanual:\n  users:\n    - { username: u1, role: tutor }\n"
	all := append([]string{"tutor"}, spec.StandardRoles...)
	for _, tc := range []struct {
		name, src string
		siteRoles []string
		want      bool
	}{
		{"valid, every standard role", valid, spec.StandardRoles, true},
		{"valid, the site has more roles", valid, all, true},
		// Offline "teacher" is standard; this site has no such role: read again.
		{"valid offline, a standard role missing", valid, []string{"student", "editingteacher", "manager"}, false},
		// Offline "tutor" is unknown; this site has it: read again, no error then.
		{"a role of the site only", badRole, all, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			set := spec.LoadBytes("c1.yaml", []byte(tc.src), spec.Options{})
			if got := sameAsOnline(set, tc.siteRoles); got != tc.want {
				t.Fatalf("sameAsOnline = %v, want %v (diagnostics %v)", got, tc.want, set.Diagnostics)
			}
			if tc.want {
				online := spec.LoadBytes("c1.yaml", []byte(tc.src), spec.Options{SiteRoles: tc.siteRoles})
				if len(online.Diagnostics) != len(set.Diagnostics) {
					t.Fatalf("online %v, offline %v", online.Diagnostics, set.Diagnostics)
				}
			}
		})
	}
}
