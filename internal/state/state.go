package state

import (
	"slices"
	"strings"
)

// Source is where a desired object was declared, a position kept as one from the spec
// reader to the diagnostics (line and column 1-based; zero for observed objects). It
// has diag.Pos's fields, so that diag.Pos(src) is the diagnostic's place.
type Source struct {
	File      string
	Line, Col int
}

// Prune says what happens to manual enrolments of users a course spec does not list.
type Prune string

const (
	PruneKeep    Prune = "keep"    // reported as unmanaged, left alone (default)
	PruneSuspend Prune = "suspend" // suspended
	PruneUnenrol Prune = "unenrol" // unenrolled
)

// Enrolment is one user enrolment (a user_enrolments row) in one method of a course.
// Desired enrolments are always in the manual method.
type Enrolment struct {
	Username string `json:"username"`
	// Method is the Key of the method the enrolment belongs to.
	Method string `json:"method"`
	// Roles are the role shortnames held through this enrolment: plain roles
	// (component '') for manual and self, the plugin's own roles otherwise. Sorted.
	Roles     []string `json:"roles,omitempty"`
	Start     int64    `json:"start,omitempty"` // unix seconds, 0 = no start
	End       int64    `json:"end,omitempty"`   // unix seconds, 0 = no end
	Suspended bool     `json:"suspended,omitempty"`
	// KeepStart (desired only): the spec sets no start date, so a live enrolment keeps
	// its own; renewing an end date must not rewrite when access began.
	KeepStart bool `json:"keep_start,omitempty"`

	UserID int64  `json:"user_id,omitempty"` // observed
	Source Source `json:"-"`
}

// Key is the enrolment's identity within its course.
func (e Enrolment) Key() string { return e.Method + "/" + e.Username }

// CompareEnrolmentKeys orders enrolments by Key without building the keys: sorting a
// 10,000-course site otherwise allocates a key per comparison.
func CompareEnrolmentKeys(a, b Enrolment) int {
	return CompareKeys(a.Method, a.Username, b.Method, b.Username)
}

// CompareKeys orders the enrolment keys of (method a, user a) and (method b, user b)
// as strings.Compare orders the keys themselves, without building them.
func CompareKeys(aMethod, aUser, bMethod, bUser string) int {
	if aMethod == bMethod {
		return strings.Compare(aUser, bUser)
	}
	x, y := [3]string{aMethod, "/", aUser}, [3]string{bMethod, "/", bUser}
	xi, xj, yi, yj := 0, 0, 0, 0
	for {
		for xi < 3 && xj == len(x[xi]) {
			xi, xj = xi+1, 0
		}
		for yi < 3 && yj == len(y[yi]) {
			yi, yj = yi+1, 0
		}
		switch {
		case xi == 3 && yi == 3:
			return 0
		case xi == 3:
			return -1
		case yi == 3:
			return 1
		case x[xi][xj] != y[yi][yj]:
			if x[xi][xj] < y[yi][yj] {
				return -1
			}
			return 1
		}
		xj, yj = xj+1, yj+1
	}
}

// Member is one group membership.
type Member struct {
	Username string `json:"username"`
	// Component owns the membership: "" for manual (and enrolctl), "enrol_cohort" or
	// "enrol_meta" when a method's sync put the user there.
	Component string `json:"component,omitempty"`
	// ItemID (observed) is the enrolment method instance whose sync made the
	// membership (0 for manual ones): deleting that instance deletes the membership.
	ItemID int64  `json:"item_id,omitempty"`
	Source Source `json:"-"`
}

// Group is a course group. In desired state, Members are the memberships the specs
// declare; in observed state, every membership.
type Group struct {
	Name    string   `json:"name"`
	Members []Member `json:"members,omitempty"`
	// PruneMembers (desired only): manual memberships not declared are removed.
	PruneMembers bool `json:"prune_members,omitempty"`

	ID     int64  `json:"id,omitempty"`
	Source Source `json:"-"`
}

// Renewal (desired only) renews, without listing users, the live manual enrolments of a
// course that it selects: those holding Role ("" any) whose status is Status
// ("active", "suspended", "" either), which the specs do not list. Each gets End, and
// is reactivated when Reactivate; its role and start are kept. The selection is made
// against the live course when the plan is made, and the plan lists every enrolment
// renewed.
type Renewal struct {
	Policy     string `json:"policy"`
	Role       string `json:"role,omitempty"`
	Status     string `json:"status,omitempty"`
	End        int64  `json:"end,omitempty"`
	Reactivate bool   `json:"reactivate,omitempty"`
	Source     Source `json:"-"`
}

// Selects reports whether the renewal applies to a live manual enrolment.
func (r Renewal) Selects(e Enrolment) bool {
	if e.Method != string(Manual) {
		return false
	}
	if r.Role != "" && !slices.Contains(e.Roles, r.Role) {
		return false
	}
	switch r.Status {
	case "active":
		return !e.Suspended
	case "suspended":
		return e.Suspended
	}
	return true
}

// Options are a desired course's ownership knobs.
type Options struct {
	// Protect refuses every removal in the course.
	Protect bool `json:"protect,omitempty"`
	// MethodsPrune deletes live methods no spec declares (default: report them).
	MethodsPrune bool `json:"methods_prune,omitempty"`
	// ManualPrune applies to manual enrolments of users the specs do not list.
	ManualPrune Prune `json:"manual_prune,omitempty"`
}

// Course is the enrolment state of one course, identified by its shortname.
type Course struct {
	Shortname  string      `json:"shortname"`
	Methods    []Method    `json:"methods,omitempty"`
	Enrolments []Enrolment `json:"enrolments,omitempty"`
	Groups     []Group     `json:"groups,omitempty"`
	Options    Options     `json:"options,omitzero"`
	// Renewals (desired only) renew live manual enrolments the specs do not list.
	Renewals []Renewal `json:"renewals,omitempty"`

	ID       int64  `json:"id,omitempty"`       // observed: course.id
	Category string `json:"category,omitempty"` // observed: category path "A / B / C"
	// LinkedFrom (observed) are the shortnames of the courses whose meta method links to
	// this one, sorted: Moodle's meta sync carries this course's enrolments into them.
	// Nil when there are none or the plugin does not say (before 2.6.0).
	LinkedFrom []string `json:"-"`
	// Sources (desired only) are the files that contributed to this course.
	Sources []string `json:"-"`
	// Spec (desired only) is the file of the course's own spec, "" when only policies
	// select it: what the spec declares says which scopes it owns (diff's drift).
	Spec string `json:"-"`
}

// Address is the course's stable address, the prefix of every address in it.
func (c Course) Address() string { return "course/" + c.Shortname }

// MethodAddress, EnrolmentAddress, GroupAddress and MemberAddress build the stable
// addresses used in plans, JSON and messages.
func MethodAddress(course, key string) string { return "course/" + course + "/method/" + key }
func EnrolmentAddress(course, method, username string) string {
	return "course/" + course + "/enrolment/" + method + "/" + username
}
func GroupAddress(course, group string) string { return "course/" + course + "/group/" + group }
func MemberAddress(course, group, username string) string {
	return "course/" + course + "/group/" + group + "/member/" + username
}

// Method returns the method with the given key, if any.
func (c *Course) Method(key string) (Method, bool) {
	if i, ok := find(c.Methods, key, Method.Key); ok {
		return c.Methods[i], true
	}
	return Method{}, false
}

// find returns the index of the element of xs whose key is k: by binary search, as
// Normalize leaves xs sorted by key, then by a scan when that misses, so that a slice
// built in another order is still answered right.
func find[T any](xs []T, k string, key func(T) string) (int, bool) {
	if i, ok := slices.BinarySearchFunc(xs, k, func(x T, k string) int { return strings.Compare(key(x), k) }); ok {
		return i, true
	}
	for i := range xs {
		if key(xs[i]) == k {
			return i, true
		}
	}
	return 0, false
}

// Group returns the group with the given name, if any.
func (c *Course) Group(name string) (Group, bool) {
	if i, ok := find(c.Groups, name, func(g Group) string { return g.Name }); ok {
		return c.Groups[i], true
	}
	return Group{}, false
}

// EnrolmentsOf returns every enrolment of username in the course, in any method.
func (c *Course) EnrolmentsOf(username string) []Enrolment {
	var out []Enrolment
	for _, e := range c.Enrolments {
		if e.Username == username {
			out = append(out, e)
		}
	}
	return out
}

// Normalize sorts everything in the course into its canonical order, so that two
// equal states compare and fingerprint equal whatever order they were read in.
//
// What is in order already is only checked: every course read from Moodle is
// normalised once more by its reader, and sorting moves whole structs.
func (c *Course) Normalize() {
	sortMethods(c.Methods)
	for i := range c.Enrolments {
		if r := c.Enrolments[i].Roles; !sortedUnique(r) {
			slices.Sort(r)
			c.Enrolments[i].Roles = slices.Compact(r)
		}
	}
	sortStable(c.Enrolments, CompareEnrolmentKeys)
	for i := range c.Groups {
		sortStable(c.Groups[i].Members, compareMembers)
	}
	sortStable(c.Groups, func(a, b Group) int { return strings.Compare(a.Name, b.Name) })
}

func compareMembers(a, b Member) int {
	if d := strings.Compare(a.Username, b.Username); d != 0 {
		return d
	}
	return strings.Compare(a.Component, b.Component)
}

// sortStable is slices.SortStableFunc, which it leaves alone when xs is sorted.
func sortStable[T any](xs []T, cmp func(a, b T) int) {
	if !slices.IsSortedFunc(xs, cmp) {
		slices.SortStableFunc(xs, cmp)
	}
}

// sortMethods sorts methods by key, stably, building each key once.
func sortMethods(ms []Method) {
	if len(ms) < 2 {
		return
	}
	var small [8]string
	keys := small[:0]
	for _, m := range ms {
		keys = append(keys, m.Key())
	}
	if slices.IsSorted(keys) {
		return
	}
	slices.SortStableFunc(ms, func(a, b Method) int { return strings.Compare(a.Key(), b.Key()) })
}

// Snapshot is the state of many courses plus, for observed state, the site directory.
type Snapshot struct {
	Courses   []Course  `json:"courses"`
	Directory Directory `json:"directory,omitzero"`
}

// Course returns the course with the given shortname, if any. A normalised snapshot is
// sorted by shortname, so a binary search finds it (10,000 courses are looked up once
// each when planning a site); otherwise the linear scan does.
func (s *Snapshot) Course(shortname string) (*Course, bool) {
	if i, ok := find(s.Courses, shortname, func(c Course) string { return c.Shortname }); ok {
		return &s.Courses[i], true
	}
	return nil, false
}

// Shortnames returns the snapshot's course shortnames, in order.
func (s *Snapshot) Shortnames() []string {
	out := make([]string, len(s.Courses))
	for i, c := range s.Courses {
		out[i] = c.Shortname
	}
	return out
}

// Usernames returns every username the snapshot's enrolments and group memberships
// name, sorted and without repeats: the users a plan must look up.
//
// A site's specs name each user in many courses (300,000 enrolments of far fewer
// users at 10,000 courses): the repeats are dropped by a set as they come, and only
// the distinct names are sorted.
func (s *Snapshot) Usernames() []string {
	n := 0
	for _, c := range s.Courses {
		n += len(c.Enrolments)
	}
	seen := make(map[string]struct{}, n/8)
	var out []string
	add := func(u string) {
		if _, ok := seen[u]; !ok {
			u = strings.Clone(u) // the spec's string would hold its file's bytes
			seen[u] = struct{}{}
			out = append(out, u)
		}
	}
	for _, c := range s.Courses {
		for _, e := range c.Enrolments {
			add(e.Username)
		}
		for _, g := range c.Groups {
			for _, m := range g.Members {
				add(m.Username)
			}
		}
	}
	slices.Sort(out)
	return out
}

// UsesCohorts reports whether any course has a cohort method: only then does a plan
// need the site's cohorts.
func (s *Snapshot) UsesCohorts() bool {
	for _, c := range s.Courses {
		for _, m := range c.Methods {
			if m.Type == Cohort {
				return true
			}
		}
	}
	return false
}

// Normalize sorts courses and everything inside them.
func (s *Snapshot) Normalize() {
	for i := range s.Courses {
		s.Courses[i].Normalize()
	}
	slices.SortFunc(s.Courses, func(a, b Course) int { return strings.Compare(a.Shortname, b.Shortname) })
}

// CohortInfo is a cohort as the directory knows it.
type CohortInfo struct {
	ID      int64 `json:"id"`
	Members int   `json:"members"`
}

// Directory holds site-wide facts that desired state is checked against at plan time.
// Maps hold only the names that were looked up.
type Directory struct {
	Users   map[string]int64      `json:"users,omitempty"`   // username -> user id
	Cohorts map[string]CohortInfo `json:"cohorts,omitempty"` // cohort idnumber -> cohort
	Roles   map[string]int64      `json:"roles,omitempty"`   // role shortname -> role id
	// Courses maps every course shortname on the site to its id (meta links and
	// unknown-course checks need the ones without specs too).
	Courses map[string]int64 `json:"courses,omitempty"`
	// EnabledPlugins are the enrolment plugins enabled site-wide.
	EnabledPlugins []string `json:"enabled_plugins,omitempty"`
}
