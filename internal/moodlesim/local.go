package moodlesim

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/enrolctl/enrolctl/internal/contract"
)

// The local_enrolctl plugin of docs/contract.md: its versions, get_site_status,
// get_courses, get_course_state and get_user_ids. The write functions are in local_instances.go,
// local_enrolments.go and write.go (contract v2), the lease in lease.go.

// SetPlugin makes the site run another version of local_enrolctl than the newest, the
// one of this source tree (contract.Newest): its status says so, and what came after
// it is refused as that plugin's Moodle refuses it (paramsBefore): a client of the
// newest plugin is tested against a site that has not upgraded yet.
func (s *Sim) SetPlugin(p contract.Plugin) { s.locked(func() { s.plugin = p }) }

// pluginOf is the plugin the site runs (SetPlugin).
func (s *Sim) pluginOf() contract.Plugin {
	if s.plugin.Version == 0 {
		return contract.Newest()
	}
	return s.plugin
}

// paramsBefore are the parameters of functions that an older plugin took: before
// version, function had params (the first of a function's whose version is above the
// plugin's). Moodle refuses what they lack as invalidparameter.
var paramsBefore = map[string][]struct {
	version int64
	params  *desc
}{
	"local_enrolctl_get_course_rows": {{contract.PluginRowsByName, obj(req("courseids", val(pRaw)))}},
	"local_enrolctl_get_courses": {
		{contract.PluginCoursesWithStatus, obj(def("page", val(pInt), i0), def("perpage", val(pInt), int64(500)))},
		{contract.PluginSiteWithRows, obj(def("page", val(pInt), i0), def("perpage", val(pInt), int64(500)), def("withstatus", val(pBool), false))},
	},
}

// functionsSince are the plugin's functions that came after Contract v2, with the
// version that brought each: an older plugin has no external_functions record of them.
var functionsSince = map[string]int64{
	"local_enrolctl_get_course_state_json": contract.PluginCourseStateJSON,
	"local_enrolctl_get_user_ids":          contract.PluginUserIDs,
	"local_enrolctl_get_course_rows":       contract.PluginCourseRows,
}

// hasFunction says whether the plugin the site runs has function name.
func (s *Sim) hasFunction(name string) bool {
	since, ok := functionsSince[name]
	return !ok || s.pluginOf().Version >= since
}

// paramsOf are the parameters of function fn in the plugin the site runs.
func (s *Sim) paramsOf(name string, fn function) *desc {
	for _, old := range paramsBefore[name] {
		if s.pluginOf().Version < old.version {
			return old.params
		}
	}
	return fn.params
}

const (
	moodleVersion = "2025100600.02"
	moodleRelease = "5.1+ (Build: 20251017)"
)

// managedPlugins are the methods local_enrolctl can add, change and delete.
var managedPlugins = []string{"manual", "self", "guest", "cohort", "meta"}

func getSiteStatus(c *ctx, _ args) (any, *wsError) {
	type role struct {
		ID        int64  `json:"id"`
		Shortname string `json:"shortname"`
	}
	roles := make([]role, 0, len(standardRoles))
	for _, r := range standardRoles {
		roles = append(roles, role{r.ID, r.Shortname})
	}
	return struct {
		PluginVersion  int64    `json:"pluginversion"`
		PluginRelease  string   `json:"pluginrelease"`
		MoodleVersion  string   `json:"moodleversion"`
		MoodleRelease  string   `json:"moodlerelease"`
		EnabledPlugins []string `json:"enabledplugins"`
		TimeZone       string   `json:"timezone"`
		Roles          []role   `json:"roles"`
	}{c.s.pluginOf().Version, c.s.pluginOf().Release, moodleVersion, moodleRelease, append([]string{}, c.d().Config.EnabledPlugins...), c.d().Config.TimeZone, roles}, nil
}

type courseRef struct {
	ID           int64  `json:"id"`
	Shortname    string `json:"shortname"`
	Fullname     string `json:"fullname"`
	IDNumber     string `json:"idnumber"`
	CategoryID   int64  `json:"categoryid"`
	CategoryPath string `json:"categorypath"`
	Visible      bool   `json:"visible"`
}

func getCourses(c *ctx, a args) (any, *wsError) {
	if err := c.require("moodle/course:view"); err != nil {
		return nil, err
	}
	page, perpage := a.int("page"), a.int("perpage")
	if page < 0 {
		return nil, invalidParam("page must be 0 or more")
	}
	if perpage < 1 || perpage > 5000 {
		return nil, invalidParam("perpage must be between 1 and 5000")
	}
	d := c.d()
	// Hidden courses are listed only to those who may see them. The ids come sorted
	// from their index: a page costs its courses, not a sort of the site's.
	ids := d.ix.courseIDs
	if len(ids) > 0 && ids[0] == SiteCourseID { // the smallest id there is
		ids = ids[1:]
	}
	if !c.has("moodle/course:viewhiddencourses") {
		ids = slices.DeleteFunc(slices.Clone(ids), func(id int64) bool { return !d.Courses[id].Visible })
	}
	out := make([]courseRef, 0, min(perpage, int64(len(ids))))
	for i := page * perpage; page < 1<<31 && i < int64(len(ids)) && i < (page+1)*perpage; i++ {
		co := d.Courses[ids[i]]
		out = append(out, courseRef{co.ID, co.Shortname, co.Fullname, co.IDNumber, co.Category, d.categoryPath(co.Category), co.Visible})
	}
	if a.bool("withstatus") || a.str("shortnames") != "" {
		var status, rows any
		if a.bool("withstatus") {
			var err *wsError
			if status, err = getSiteStatus(c, a); err != nil {
				return nil, err
			}
		}
		if a.str("shortnames") != "" {
			// What get_course_rows answers for them (plugin 2.4.0), checks included.
			var err *wsError
			if rows, err = getCourseRows(c, args{"courseids": "", "shortnames": a.str("shortnames")}); err != nil {
				return nil, err
			}
		}
		type answer struct {
			Total   int         `json:"total"`
			Courses []courseRef `json:"courses"`
			Status  any         `json:"status,omitempty"`
			Rows    any         `json:"rows,omitempty"`
		}
		if r, ok := rows.(courseRowsJSON); ok { // JSON: the rows written as get_course_rows writes them
			return coursesWithRows{answer{len(ids), out, status, nil}, r}, nil
		}
		return answer{len(ids), out, status, rows}, nil
	}
	return struct {
		Total   int         `json:"total"`
		Courses []courseRef `json:"courses"`
	}{len(ids), out}, nil
}

// maxUserIDs is how many usernames one get_user_ids call takes.
const maxUserIDs = 5000

// getUserIDs maps usernames to the ids of existing, not deleted, non-guest users,
// through the username index; the answer is one JSON string holding the object.
func getUserIDs(c *ctx, a args) (any, *wsError) {
	if err := c.require("moodle/user:viewdetails"); err != nil {
		return nil, err
	}
	var names []any
	raw := strings.TrimSpace(a.str("usernames"))
	// Only a JSON array (not null, not an object) of strings is a list of usernames.
	if !strings.HasPrefix(raw, "[") || json.Unmarshal([]byte(raw), &names) != nil {
		return nil, payloadErr("usernames is not a JSON array of strings")
	}
	for _, n := range names {
		if _, ok := n.(string); !ok {
			return nil, payloadErr("usernames is not a JSON array of strings")
		}
	}
	if len(names) > maxUserIDs {
		return nil, payloadErr("%d usernames, at most %d per call", len(names), maxUserIDs)
	}
	d := c.d()
	ids := make(map[string]int64, len(names))
	for _, n := range names {
		if u, ok := d.userByUsername(n.(string)); ok && !u.Deleted && u.ID != guestUserID {
			ids[u.Username] = u.ID
		}
	}
	b, err := json.Marshal(ids) // an empty map is {}, as the contract wants
	if err != nil {
		panic(err) // a map of strings to ints always encodes
	}
	return string(b), nil
}

type stateInstance struct {
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
	MaxEnrolled           int64  `json:"maxenrolled"`
	EnrolPeriod           int64  `json:"enrolperiod"`
}

type stateEnrolment struct {
	ID         int64  `json:"id"`
	InstanceID int64  `json:"instanceid"`
	UserID     int64  `json:"userid"`
	Username   string `json:"username"`
	Status     int    `json:"status"`
	TimeStart  int64  `json:"timestart"`
	TimeEnd    int64  `json:"timeend"`
}

type stateRole struct {
	UserID        int64  `json:"userid"`
	RoleID        int64  `json:"roleid"`
	RoleShortname string `json:"roleshortname"`
	Component     string `json:"component"`
	ItemID        int64  `json:"itemid"`
}

type stateGroup struct {
	ID       int64  `json:"id"`
	Name     string `json:"name"`
	IDNumber string `json:"idnumber"`
}

type stateMember struct {
	GroupID   int64  `json:"groupid"`
	UserID    int64  `json:"userid"`
	Username  string `json:"username"`
	Component string `json:"component"`
	ItemID    int64  `json:"itemid"`
}

type courseState struct {
	CourseID   int64            `json:"courseid"`
	Shortname  string           `json:"shortname"`
	Instances  []stateInstance  `json:"instances"`
	Enrolments []stateEnrolment `json:"enrolments"`
	Roles      []stateRole      `json:"roles"`
	Groups     []stateGroup     `json:"groups"`
	Members    []stateMember    `json:"members"`
	Users      []stateUser      `json:"users"`
}

// stateUser is a user appearing in a course's enrolments, roles or members.
type stateUser struct {
	ID               int64  `json:"id"`
	Username         string `json:"username"`
	Firstname        string `json:"firstname"`
	Lastname         string `json:"lastname"`
	Email            string `json:"email"`
	IDNumber         string `json:"idnumber"`
	LastCourseAccess int64  `json:"lastcourseaccess"`
	Suspended        int    `json:"suspended"`
}

// getCourseState answers the state of up to 500 courses, in request order.
func getCourseState(c *ctx, a args) (any, *wsError) {
	d := c.d()
	ids := a.ints("courseids")
	if len(ids) < 1 || len(ids) > 500 {
		return nil, invalidParam("courseids must hold 1 to 500 course ids")
	}
	if err := c.checkCourseStates(ids); err != nil {
		return nil, err
	}
	if c.xml {
		out := make([]courseState, 0, len(ids))
		for _, id := range ids {
			out = append(out, d.courseState(id))
		}
		return out, nil
	}
	out := make(courseStatesJSON, 0, len(ids))
	for _, id := range ids {
		out = append(out, d.courseStateJSON(id))
	}
	return out, nil
}

// checkCourseStates is what get_course_state checks before reading: every course
// exists, then the capabilities course by course.
func (c *ctx) checkCourseStates(ids []int64) *wsError {
	d := c.d()
	for _, id := range ids {
		if _, ok := d.Courses[id]; !ok || id == SiteCourseID {
			return c.s.missingRecord("course", fmt.Sprintf("SELECT * FROM {course} WHERE id = ?\n[array (\n  0 => %d,\n)]", id))
		}
	}
	for _, id := range ids {
		if err := c.require("moodle/course:enrolreview"); err != nil {
			return err
		}
		if !d.Courses[id].Visible {
			if err := c.require("moodle/course:viewhiddencourses"); err != nil {
				return err
			}
		}
	}
	return nil
}

// courseStatesJSON is get_course_state's answer already encoded, course by course.
type courseStatesJSON [][]byte

// courseStatesString is get_course_state_json's answer: the same array, sent as one
// JSON string, as the plugin declares it (one PARAM_RAW value for Moodle to check).
// Each course is already escaped for the inside of a JSON string.
type courseStatesString [][]byte

// getCourseStateJSON is get_course_state with the answer as one JSON-encoded string.
func getCourseStateJSON(c *ctx, a args) (any, *wsError) {
	v, err := getCourseState(c, a)
	if err != nil {
		return nil, err
	}
	if states, ok := v.([]courseState); ok { // XML: the string's text is the JSON array
		return string(appendCourseStates(nil, states)), nil
	}
	d := c.d()
	ids := a.ints("courseids")
	out := make(courseStatesString, 0, len(ids))
	for _, id := range ids {
		out = append(out, d.courseStateQuoted(id))
	}
	return out, nil
}

// courseStateQuoted is courseStateJSON escaped as json_encode escapes a string's
// content, cached as it is.
func (d *db) courseStateQuoted(id int64) []byte {
	d.cacheMu.Lock()
	b, ok := d.quotedCache[id]
	d.cacheMu.Unlock()
	if ok {
		return b
	}
	raw := d.courseStateJSON(id)
	// raw is phpJSON's output, ASCII only: quotes, backslashes and slashes are all
	// there is to escape.
	b = make([]byte, 0, len(raw)+len(raw)/4)
	for _, c := range raw {
		switch c {
		case '"', '\\', '/':
			b = append(b, '\\', c)
		default:
			b = append(b, c)
		}
	}
	d.cacheMu.Lock()
	d.quotedCache[id] = b
	d.cacheMu.Unlock()
	return b
}

// courseStateJSON is one course's state encoded as phpJSON would, from the cache
// when no write touched the course since it was last read.
func (d *db) courseStateJSON(id int64) []byte {
	d.cacheMu.Lock()
	b, ok := d.stateCache[id]
	d.cacheMu.Unlock()
	if ok {
		return b
	}
	b = appendCourseState(make([]byte, 0, 6<<10), d.courseState(id))
	d.cacheMu.Lock()
	d.stateCache[id] = b
	d.cacheMu.Unlock()
	return b
}

// courseState reads one course through its indexes: the cost is the size of the
// course, not of the site (the plugin's queries join on the course ids too).
func (d *db) courseState(id int64) courseState {
	cs := courseState{CourseID: id, Shortname: d.Courses[id].Shortname, Instances: []stateInstance{},
		Enrolments: []stateEnrolment{}, Roles: []stateRole{}, Groups: []stateGroup{}, Members: []stateMember{}}
	for _, e := range d.courseInstances(id) {
		cs.Instances = append(cs.Instances, d.stateInstance(e))
		for _, ueID := range d.ix.ueByInst[e.ID] {
			ue := d.UEs[ueID]
			cs.Enrolments = append(cs.Enrolments, stateEnrolment{ue.ID, ue.EnrolID, ue.UserID, d.Users[ue.UserID].Username,
				ue.Status, ue.TimeStart, ue.TimeEnd})
		}
	}
	cs.Roles = slices.Grow(cs.Roles, len(d.ix.raByCourse[id]))
	for _, raID := range d.ix.raByCourse[id] {
		ra := d.RAs[raID]
		cs.Roles = append(cs.Roles, stateRole{ra.UserID, ra.RoleID, roleShortname(ra.RoleID), ra.Component, ra.ItemID})
	}
	for _, gID := range d.ix.groupsByCourse[id] {
		g := d.Groups[gID]
		cs.Groups = append(cs.Groups, stateGroup{g.ID, g.Name, g.IDNumber})
		for _, mID := range d.ix.membersByGroup[gID] {
			m := d.Members[mID]
			cs.Members = append(cs.Members, stateMember{m.GroupID, m.UserID, d.Users[m.UserID].Username, m.Component, m.ItemID})
		}
	}
	slices.SortFunc(cs.Instances, func(x, y stateInstance) int {
		if x.SortOrder != y.SortOrder {
			return x.SortOrder - y.SortOrder
		}
		return cmpID(x.ID, y.ID)
	})
	slices.SortFunc(cs.Enrolments, func(x, y stateEnrolment) int {
		if x.InstanceID != y.InstanceID {
			return cmpID(x.InstanceID, y.InstanceID)
		}
		return cmpID(x.UserID, y.UserID)
	})
	slices.SortFunc(cs.Roles, func(x, y stateRole) int {
		if x.UserID != y.UserID {
			return cmpID(x.UserID, y.UserID)
		}
		if x.RoleID != y.RoleID {
			return cmpID(x.RoleID, y.RoleID)
		}
		if x.Component != y.Component {
			return strings.Compare(x.Component, y.Component)
		}
		return cmpID(x.ItemID, y.ItemID)
	})
	slices.SortFunc(cs.Groups, func(x, y stateGroup) int {
		if x.Name != y.Name {
			return strings.Compare(x.Name, y.Name)
		}
		return cmpID(x.ID, y.ID)
	})
	slices.SortFunc(cs.Members, func(x, y stateMember) int {
		if x.GroupID != y.GroupID {
			return cmpID(x.GroupID, y.GroupID)
		}
		return cmpID(x.UserID, y.UserID)
	})
	cs.Users = d.stateUsers(&cs)
	return cs
}

// stateInstance is an instance as the course state shows it: its cohort, linked
// course and group by name too.
func (d *db) stateInstance(e Instance) stateInstance {
	si := stateInstance{ID: e.ID, Enrol: e.Enrol, Status: e.Status, Name: e.Name, SortOrder: e.SortOrder,
		RoleID: e.RoleID, RoleShortname: roleShortname(e.RoleID), EnrolPeriod: e.EnrolPeriod}
	switch e.Enrol {
	case "cohort":
		si.CohortID, si.GroupID = e.CustomInt1, e.CustomInt2
		si.CohortIDNumber = d.Cohorts[e.CustomInt1].IDNumber
	case "meta":
		si.LinkedCourseID, si.GroupID = e.CustomInt1, e.CustomInt2
		si.LinkedCourseShortname = d.Courses[e.CustomInt1].Shortname
	case "self":
		si.MaxEnrolled = e.CustomInt3
	}
	if si.GroupID < 0 {
		si.GroupID = 0
	}
	if g, ok := d.Groups[si.GroupID]; ok && g.CourseID == e.CourseID {
		si.GroupName = g.Name
	}
	return si
}

// stateUsers lists, by id, every user of a course's enrolments, roles and members.
func (d *db) stateUsers(cs *courseState) []stateUser {
	ids := make([]int64, 0, len(cs.Enrolments)+len(cs.Roles)+len(cs.Members))
	for _, e := range cs.Enrolments {
		ids = append(ids, e.UserID)
	}
	for _, r := range cs.Roles {
		ids = append(ids, r.UserID)
	}
	for _, m := range cs.Members {
		ids = append(ids, m.UserID)
	}
	slices.Sort(ids)
	ids = slices.Compact(ids)
	out := make([]stateUser, 0, len(ids))
	for _, id := range ids {
		u := d.Users[id]
		su := stateUser{ID: u.ID, Username: u.Username, Firstname: u.Firstname, Lastname: u.Lastname, Email: u.Email,
			IDNumber: u.IDNumber, LastCourseAccess: d.lastAccess(cs.CourseID, id)}
		if u.Suspended {
			su.Suspended = 1
		}
		out = append(out, su)
	}
	return out
}
