package diff

import (
	"slices"

	"github.com/enrolctl/enrolctl/internal/diag"
	"github.com/enrolctl/enrolctl/internal/state"
)

// skipUnknownUsers applies a site's unknown_users: skip. Accounts made at first login
// (CAS, Shibboleth) do not exist yet when the specs list them; one of them must not
// stop the plan of every course. Each unknown-user error of ds becomes a warning
// naming the user, and the user's enrolment and memberships in that course are left
// out of the desired state, so the rest is planned and a later run enrols them once
// the account exists. Nothing live is affected: a user the site lacks holds nothing.
// desired is not modified; the courses that lose users are copies.
func skipUnknownUsers(desired state.Snapshot, ds diag.Diagnostics) (state.Snapshot, diag.Diagnostics) {
	skip := map[string]map[string]bool{} // course → usernames
	out := slices.Clone(ds)
	for i, d := range out {
		if d.Code != diag.UnknownUser || d.Severity != diag.Error {
			continue
		}
		out[i].Severity = diag.Warning
		out[i].Message += "; skipped (unknown_users: skip): a later run enrols them once the account exists"
		if skip[d.Subject.Course] == nil {
			skip[d.Subject.Course] = map[string]bool{}
		}
		skip[d.Subject.Course][d.Subject.User] = true
	}
	if len(skip) == 0 {
		return desired, ds
	}
	courses := slices.Clone(desired.Courses)
	for i := range courses {
		users := skip[courses[i].Shortname]
		if users == nil {
			continue
		}
		c := &courses[i]
		c.Enrolments = slices.DeleteFunc(slices.Clone(c.Enrolments), func(e state.Enrolment) bool { return users[e.Username] })
		groups := slices.Clone(c.Groups)
		for j := range groups {
			groups[j].Members = slices.DeleteFunc(slices.Clone(groups[j].Members), func(m state.Member) bool { return users[m.Username] })
		}
		c.Groups = groups
	}
	desired.Courses = courses
	return desired, out
}
