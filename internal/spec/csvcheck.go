package spec

import (
	"fmt"

	"github.com/enrolctl/enrolctl/internal/diag"
)

// SiteFacts are what a CSV import is checked against before anything is written.
type SiteFacts struct {
	// Courses are every course shortname of the site.
	Courses []string
	// Users holds the usernames of the CSV that exist on the site.
	Users map[string]bool
	// ByEmail maps the emails of rows whose username does not exist to the username
	// the site has for that email: the likely right spelling.
	ByEmail map[string]string
}

// CheckAdditions reports, at their CSV line and column, the courses and users of the
// additions the site does not have, with a did-you-mean: the closest shortname, and
// for users the username the site has for the row's email.
func CheckAdditions(file string, adds []Addition, site SiteFacts) Diagnostics {
	courses := make(map[string]bool, len(site.Courses))
	for _, c := range site.Courses {
		courses[c] = true
	}
	var ds diag.Diagnostics
	badUser := map[int]bool{}
	for _, a := range adds {
		if !courses[a.Course] {
			d := diag.Errorf(diag.Pos{File: file, Line: a.Line, Col: a.CourseCol}, "unknown course %q: no course has this shortname on the site", a.Course)
			ds = append(ds, d.WithSuggestion(diag.Suggest(a.Course, site.Courses)))
		}
		if !site.Users[a.Username] && !badUser[a.Line] {
			badUser[a.Line] = true
			msg := fmt.Sprintf("unknown user %q: no user has this username on the site (create the account first, e.g. with Moodle's Upload users)", a.Username)
			d := diag.Errorf(diag.Pos{File: file, Line: a.Line, Col: a.UserCol}, "%s", msg)
			ds = append(ds, d.WithSuggestion(site.ByEmail[a.Email]).About(diag.UnknownUser, diag.Subject{Course: a.Course, User: a.Username}))
		}
	}
	return ds.Sort()
}
