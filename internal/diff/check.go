package diff

import (
	"maps"
	"slices"

	"github.com/enrolctl/enrolctl/internal/diag"
	"github.com/enrolctl/enrolctl/internal/state"
)

// Check finds what the desired state names that the site does not have: users, cohorts,
// enrolment plugins that are disabled, a database method the sync has not created, and
// methods enrolctl cannot manage. Each diagnostic points at the spec line of the object
// (its state.Source) and suggests the closest name the site has. A Directory map that is
// nil means "not known" and is not checked.
//
// This is the one place these checks live; the checks that need only the catalogue and
// the roles (unknown course, linked course, role, duplicate course) are made by the spec
// loader, against the site's catalogue and roles, where each value's position is known.
func Check(desired, observed state.Snapshot) diag.Diagnostics {
	dir := &observed.Directory
	var ds diag.Diagnostics
	var users []string // the site's usernames, sorted for suggestions once a user is unknown
	known := func() []string {
		if users == nil {
			users = slices.Sorted(maps.Keys(dir.Users))
		}
		return users
	}
	cohorts := slices.Sorted(maps.Keys(dir.Cohorts))
	for i := range desired.Courses {
		d := &desired.Courses[i]
		o, _ := observed.Course(d.Shortname)
		for _, m := range d.Methods {
			ds = append(ds, checkMethod(d, o, m, dir, cohorts)...)
		}
		if len(d.Enrolments) > 0 && !slices.ContainsFunc(d.Methods, func(m state.Method) bool { return m.Type == state.Manual }) {
			// The manual method the enrolments imply is created when missing.
			if o != nil && !hasMethod(o, string(state.Manual)) && !pluginEnabled(dir, state.Manual) {
				ds = append(ds, diag.Errorf(courseAt(d), "course %s: the enrolment plugin manual is disabled on this site; enable it: the manual enrolments the specs list need it", d.Shortname))
			}
		}
		reported := map[string]bool{} // each unknown user once per course, at its entry
		for _, e := range d.Enrolments {
			at := diag.Pos(e.Source)
			if e.Method != "" && e.Method != string(state.Manual) {
				ds = append(ds, diag.Errorf(at, "enrolctl only manages manual enrolments, not %s", e.Method))
				continue
			}
			if dir.Users != nil {
				if _, ok := dir.Users[e.Username]; !ok && !reported[e.Username] {
					reported[e.Username] = true
					ds = append(ds, unknownUser(at, d.Shortname, e.Username, known()))
				}
			}
		}
		for _, g := range d.Groups {
			for _, m := range g.Members {
				if dir.Users == nil {
					continue
				}
				if _, ok := dir.Users[m.Username]; !ok && !reported[m.Username] {
					reported[m.Username] = true
					ds = append(ds, unknownUser(diag.Pos(m.Source), d.Shortname, m.Username, known()))
				}
			}
		}
	}
	return ds.Sort()
}

func unknownUser(at diag.Pos, course, username string, known []string) diag.Diagnostic {
	return diag.Errorf(at, "unknown user %q: no user has this username on the site", username).
		WithSuggestion(diag.Suggest(username, known)).About(diag.UnknownUser, diag.Subject{Course: course, User: username})
}

func checkMethod(d, o *state.Course, m state.Method, dir *state.Directory, cohorts []string) diag.Diagnostics {
	at := diag.Pos(m.Source)
	if at.File == "" {
		at = courseAt(d)
	}
	exists := o != nil && hasMethod(o, m.Key())
	switch {
	case !m.Type.Known():
		return diag.Diagnostics{diag.Errorf(at, "enrolctl cannot manage enrolment method %s", m.Type)}
	case m.Type.CheckOnly():
		if o != nil && !exists {
			return diag.Diagnostics{diag.Errorf(at, "course %s has no database method: it is created by the nightly sync from the student-records system; enrolctl cannot create it", d.Shortname)}
		}
		return nil
	}
	var ds diag.Diagnostics
	if m.Type == state.Cohort && dir.Cohorts != nil {
		if _, ok := dir.Cohorts[m.Cohort]; !ok {
			cat := at
			if m.CohortSource.File != "" {
				cat = diag.Pos(m.CohortSource)
			}
			ds = append(ds, diag.Errorf(cat, "unknown cohort %q: no cohort has this idnumber on the site", m.Cohort).
				WithSuggestion(diag.Suggest(m.Cohort, cohorts)).About(diag.UnknownCohort, diag.Subject{Course: d.Shortname, Method: m.Key()}))
		}
	}
	if o != nil && !exists && !pluginEnabled(dir, m.Type) {
		ds = append(ds, diag.Errorf(at, "the enrolment plugin %s is disabled on this site; enable it before creating this method", m.Type))
	}
	return ds
}

// pluginEnabled reports whether methods of type t can be created. An empty
// EnabledPlugins list means "not known".
func pluginEnabled(dir *state.Directory, t state.MethodType) bool {
	return len(dir.EnabledPlugins) == 0 || slices.Contains(dir.EnabledPlugins, string(t))
}

func hasMethod(c *state.Course, key string) bool {
	_, ok := c.Method(key)
	return ok
}

// courseAt is where a course is declared: its first source file.
func courseAt(c *state.Course) diag.Pos {
	if len(c.Sources) > 0 {
		return diag.Pos{File: c.Sources[0]}
	}
	return diag.Pos{}
}

func errorAt(src state.Source, format string, args ...any) diag.Diagnostic {
	return diag.Errorf(diag.Pos(src), format, args...)
}
