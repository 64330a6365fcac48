package moodle

import (
	"cmp"
	"fmt"
	"slices"
	"sync"

	"github.com/enrolctl/enrolctl/internal/state"
)

// Wire types: the JSON shapes of docs/contract.md, decoded as Moodle sends them.

// SiteStatus is local_enrolctl_get_site_status.
type SiteStatus struct {
	PluginVersion  int64      `json:"pluginversion"`
	PluginRelease  string     `json:"pluginrelease"`
	MoodleVersion  string     `json:"moodleversion"`
	MoodleRelease  string     `json:"moodlerelease"`
	EnabledPlugins []string   `json:"enabledplugins"`
	TimeZone       string     `json:"timezone"`
	Roles          []RoleInfo `json:"roles"`
}

// RoleInfo is one role of the site.
type RoleInfo struct {
	ID        int64  `json:"id"`
	Shortname string `json:"shortname"`
}

// SiteInfo is the part of core_webservice_get_site_info that enrolctl reads.
type SiteInfo struct {
	SiteName  string `json:"sitename"`
	Username  string `json:"username"`
	UserID    int64  `json:"userid"`
	SiteURL   string `json:"siteurl"`
	Release   string `json:"release"`
	Version   string `json:"version"`
	Functions []struct {
		Name string `json:"name"`
	} `json:"functions"`
	UserIsSiteAdmin bool `json:"userissiteadmin"`
}

// CourseRef is one course of local_enrolctl_get_courses.
type CourseRef struct {
	ID           int64  `json:"id"`
	Shortname    string `json:"shortname"`
	Fullname     string `json:"fullname"`
	IDNumber     string `json:"idnumber"`
	CategoryID   int64  `json:"categoryid"`
	CategoryPath string `json:"categorypath"`
	Visible      bool   `json:"visible"`
}

// CourseState is one course of local_enrolctl_get_course_state.
type CourseState struct {
	CourseID   int64            `json:"courseid"`
	Shortname  string           `json:"shortname"`
	Instances  []Instance       `json:"instances"`
	Enrolments []UserEnrolment  `json:"enrolments"`
	Roles      []RoleAssignment `json:"roles"`
	Groups     []GroupInfo      `json:"groups"`
	Members    []GroupMember    `json:"members"`
	// Users (Contract v2) are every user the course's enrolments, roles or members name.
	Users []CourseUser `json:"users"`
	// LinkedFrom are the shortnames of the courses whose meta method links to this one,
	// sorted (get_course_rows' metalinks, plugin 2.6.0; nil before).
	LinkedFrom []string `json:"-"`
}

// CourseUser is one user of a course as Contract v2's get_course_state lists it.
type CourseUser struct {
	ID               int64  `json:"id"`
	Username         string `json:"username"`
	Firstname        string `json:"firstname"`
	Lastname         string `json:"lastname"`
	Email            string `json:"email"`
	IDNumber         string `json:"idnumber"`
	LastCourseAccess int64  `json:"lastcourseaccess"` // 0: never
	Suspended        int    `json:"suspended"`        // auth-level suspension of the account
}

// Instance is one enrol row, with names resolved by the plugin.
type Instance struct {
	ID                    int64  `json:"id"`
	Enrol                 string `json:"enrol"`
	Status                int    `json:"status"`
	Name                  string `json:"name"`
	SortOrder             int    `json:"sortorder"`
	RoleID                int64  `json:"roleid"`
	RoleShortname         string `json:"roleshortname"`
	CohortID              int64  `json:"cohortid"`
	CohortIDNumber        string `json:"cohortidnumber"`
	LinkedCourseID        int64  `json:"linkedcourseid"`
	LinkedCourseShortname string `json:"linkedcourseshortname"`
	GroupID               int64  `json:"groupid"`
	GroupName             string `json:"groupname"`
	MaxEnrolled           int    `json:"maxenrolled"`
	EnrolPeriod           int64  `json:"enrolperiod"`
}

// UserEnrolment is one user_enrolments row.
type UserEnrolment struct {
	ID         int64  `json:"id"`
	InstanceID int64  `json:"instanceid"`
	UserID     int64  `json:"userid"`
	Username   string `json:"username"`
	Status     int    `json:"status"`
	TimeStart  int64  `json:"timestart"`
	TimeEnd    int64  `json:"timeend"`
}

// RoleAssignment is one role_assignments row in a course context.
type RoleAssignment struct {
	UserID        int64  `json:"userid"`
	RoleID        int64  `json:"roleid"`
	RoleShortname string `json:"roleshortname"`
	Component     string `json:"component"`
	ItemID        int64  `json:"itemid"`
}

// GroupInfo is one group of a course.
type GroupInfo struct {
	ID       int64  `json:"id"`
	Name     string `json:"name"`
	IDNumber string `json:"idnumber"`
}

// GroupMember is one groups_members row.
type GroupMember struct {
	GroupID   int64  `json:"groupid"`
	UserID    int64  `json:"userid"`
	Username  string `json:"username"`
	Component string `json:"component"`
	ItemID    int64  `json:"itemid"`
}

// instance reads one instance row of get_course_rows: Instance's fields in the
// contract's order (docs/contract.md).
func (r *rowReader) instance(roles map[int64]string) Instance {
	in := Instance{ID: r.int(), Enrol: r.str(), Status: int(r.int()), Name: r.text(), SortOrder: int(r.int()),
		RoleID: r.int(), CohortID: r.int(), CohortIDNumber: r.text(), LinkedCourseID: r.int(),
		LinkedCourseShortname: r.text(), GroupID: r.int(), GroupName: r.text(), MaxEnrolled: int(r.int()),
		EnrolPeriod: r.int()}
	in.RoleShortname = roles[in.RoleID] // "" for none, as the v1 function's join
	return in
}

// MethodOf turns an instance into a state.Method, keeping only what specs can declare.
func MethodOf(in Instance) state.Method {
	m := state.Method{Type: state.MethodType(in.Enrol), Enabled: in.Status == 0, ID: in.ID, Name: in.Name}
	k, _ := state.KindOf(m.Type)
	for _, a := range k.Fields {
		switch a {
		case state.AttrCohort:
			m.Cohort = in.CohortIDNumber
			if m.Cohort == "" {
				m.Cohort = fmt.Sprintf("#%d", in.CohortID) // a cohort without idnumber cannot be declared
			}
		case state.AttrRole:
			m.Role = in.RoleShortname
		case state.AttrCourse:
			m.Course = in.LinkedCourseShortname
		case state.AttrGroup:
			m.Group = in.GroupName
		case state.AttrMaxUsers:
			m.MaxUsers = in.MaxEnrolled
		}
	}
	return m
}

// toCourseScratch is ToCourse's working space, reused from one course to the next
// (toCourseScratches): a site-wide read converts 10,000 courses, each of which
// otherwise made two maps and four slices only to index itself.
type toCourseScratch struct {
	methods []instanceMethod // by instance id
	ras     []heldRole       // by (item, user)
	order   []enrolmentAt    // the enrolments kept, by key
	groups  []groupAt        // by group id
	counts  []int            // each group's first member, then where its next one goes
}

var toCourseScratches = sync.Pool{New: func() any { return new(toCourseScratch) }}

// enrolmentLists are the enrolment lists of courses ToCourse made that their user is
// done with (Recycle), for ToCourse to fill again.
var enrolmentLists sync.Pool // of *[]state.Enrolment

// Recycle hands c's enrolment list back to ToCourse, which made it, for another
// course; c is left without enrolments. Only for a list nothing else points into: a
// plan planning 100,000 courses one after the other (diff.Planner.Course says which
// it keeps) otherwise allocates 360 MB of lists it reads once.
func Recycle(c *state.Course) {
	if cap(c.Enrolments) >= minEnrolmentList {
		list := c.Enrolments[:0]
		clear(list[:cap(list)]) // nor holding usernames, hence answers, alive
		enrolmentLists.Put(&list)
	}
	c.Enrolments = nil
}

// minEnrolmentList is the shortest list ToCourse makes: lists are made in powers of
// two from there, so that most courses' lists can take one another's place.
const minEnrolmentList = 32

// enrolmentList returns an empty list with room for n enrolments, recycled if one is.
func enrolmentList(n int) []state.Enrolment {
	if p, ok := enrolmentLists.Get().(*[]state.Enrolment); ok && cap(*p) >= n {
		return (*p)[:0]
	}
	size := minEnrolmentList
	for size < n {
		size *= 2
	}
	return make([]state.Enrolment, 0, size)
}

// instanceMethod is an instance's method key, and whether its enrolments hold plain
// roles (manual, self, guest) rather than their plugin's.
type instanceMethod struct {
	id    int64
	key   string
	plain bool
}

func methodID(m instanceMethod) int64 { return m.id }

// heldRole is a role assignment as ToCourse matches it to enrolments: item -1 for a
// plain role.
type heldRole struct {
	item, user int64
	role       string
}

func compareHeld(a, b heldRole) int {
	return cmp.Or(cmp.Compare(a.item, b.item), cmp.Compare(a.user, b.user))
}

// enrolmentAt is a kept enrolment's sort key, where it was read, and whether its
// method holds plain roles (instanceMethod.plain).
type enrolmentAt struct {
	key, username string
	at            int
	plain         bool
}

// groupAt is a group's place in the course's groups.
type groupAt struct {
	id int64
	at int
}

func groupID(g groupAt) int64 { return g.id }

// lastByID finds the entry with this id in xs sorted by id (idOf): the last of the
// entries with that id.
func lastByID[T any](xs []T, id int64, idOf func(T) int64) (T, bool) {
	i, _ := slices.BinarySearchFunc(xs, id+1, func(x T, id int64) int { return cmp.Compare(idOf(x), id) })
	if i == 0 || idOf(xs[i-1]) != id {
		var zero T
		return zero, false
	}
	return xs[i-1], true
}
