package moodlesim

import (
	"maps"
	"slices"
	"strings"
)

// Moodle constants (public/lib/enrollib.php).
const (
	InstanceEnabled  = 0 // ENROL_INSTANCE_ENABLED
	InstanceDisabled = 1 // ENROL_INSTANCE_DISABLED
	UserActive       = 0 // ENROL_USER_ACTIVE
	UserSuspended    = 1 // ENROL_USER_SUSPENDED

	// Values of enrol_cohort/unenrolaction and enrol_meta/unenrolaction.
	ExtRemovedUnenrol              = 0 // ENROL_EXT_REMOVED_UNENROL
	ExtRemovedKeep                 = 1 // ENROL_EXT_REMOVED_KEEP
	ExtRemovedSuspend              = 2 // ENROL_EXT_REMOVED_SUSPEND
	ExtRemovedSuspendNoRoles       = 3 // ENROL_EXT_REMOVED_SUSPENDNOROLES
	SiteCourseID             int64 = 1 // the front page course, never listed
)

// Category is a course_categories row. Parent 0 is the top.
type Category struct {
	ID       int64  `json:"id"`
	Parent   int64  `json:"parent"`
	Name     string `json:"name"`
	IDNumber string `json:"idnumber,omitempty"`
}

// Course is a course row.
type Course struct {
	ID        int64  `json:"id"`
	Shortname string `json:"shortname"`
	Fullname  string `json:"fullname"`
	IDNumber  string `json:"idnumber,omitempty"`
	Category  int64  `json:"category"`
	Visible   bool   `json:"visible"`
}

// User is a user row. Usernames are lowercase, as Moodle stores them.
type User struct {
	ID        int64  `json:"id"`
	Username  string `json:"username"`
	Firstname string `json:"firstname"`
	Lastname  string `json:"lastname"`
	Email     string `json:"email"`
	IDNumber  string `json:"idnumber,omitempty"`
	Auth      string `json:"auth,omitempty"`
	Suspended bool   `json:"suspended,omitempty"`
	Deleted   bool   `json:"deleted,omitempty"`
	// Description is NULL (nil) for users created by web services, CSV uploads and the
	// installer's admin; user_get_user_details then leaves description out.
	Description *string `json:"description,omitempty"`
	// SiteAdmin users bypass every capability check, like $CFG->siteadmins.
	SiteAdmin bool `json:"siteadmin,omitempty"`
	// Capabilities are what a non-admin holds everywhere (a system role); see
	// SetCapabilities.
	Capabilities []string `json:"capabilities,omitempty"`
}

// Role is a role row. The standard roles have an empty name (role_get_name localises them).
type Role struct {
	ID        int64  `json:"id"`
	Shortname string `json:"shortname"`
	Name      string `json:"name"`
	SortOrder int    `json:"sortorder"`
	// Course says whether the role can be assigned in a course context.
	Course bool `json:"course"`
}

// standardRoles are Moodle's roles after install, with their ids.
var standardRoles = []Role{
	{1, "manager", "", 1, true},
	{2, "coursecreator", "", 2, false},
	{3, "editingteacher", "", 3, true},
	{4, "teacher", "", 4, true},
	{5, "student", "", 5, true},
	{6, "guest", "", 6, false},
	{7, "user", "", 7, false},
	{8, "frontpage", "", 8, false},
}

// Cohort is a cohort row. CategoryID 0 means the system context.
type Cohort struct {
	ID          int64  `json:"id"`
	IDNumber    string `json:"idnumber"`
	Name        string `json:"name"`
	Description string `json:"description,omitempty"`
	Visible     bool   `json:"visible"`
	Component   string `json:"component,omitempty"`
	CategoryID  int64  `json:"categoryid,omitempty"`
}

// CohortMember is a cohort_members row.
type CohortMember struct {
	ID        int64 `json:"id"`
	CohortID  int64 `json:"cohortid"`
	UserID    int64 `json:"userid"`
	TimeAdded int64 `json:"timeadded"`
}

// Instance is an enrol row: one enrolment method instance of a course.
type Instance struct {
	ID           int64  `json:"id"`
	Enrol        string `json:"enrol"`
	Status       int    `json:"status"`
	CourseID     int64  `json:"courseid"`
	SortOrder    int    `json:"sortorder"`
	Name         string `json:"name,omitempty"`
	RoleID       int64  `json:"roleid"`
	EnrolPeriod  int64  `json:"enrolperiod,omitempty"`
	CustomInt1   int64  `json:"customint1,omitempty"`
	CustomInt2   int64  `json:"customint2,omitempty"`
	CustomInt3   int64  `json:"customint3,omitempty"`
	CustomInt4   int64  `json:"customint4,omitempty"`
	CustomInt5   int64  `json:"customint5,omitempty"`
	CustomInt6   int64  `json:"customint6,omitempty"`
	Password     string `json:"password,omitempty"`
	TimeCreated  int64  `json:"timecreated"`
	TimeModified int64  `json:"timemodified"`
}

// UserEnrolment is a user_enrolments row; (EnrolID, UserID) is unique.
type UserEnrolment struct {
	ID           int64 `json:"id"`
	EnrolID      int64 `json:"enrolid"`
	UserID       int64 `json:"userid"`
	Status       int   `json:"status"`
	TimeStart    int64 `json:"timestart"`
	TimeEnd      int64 `json:"timeend"`
	ModifierID   int64 `json:"modifierid"`
	TimeCreated  int64 `json:"timecreated"`
	TimeModified int64 `json:"timemodified"`
}

// RoleAssignment is a role_assignments row in a course context (CourseID stands for
// the context). Component "" is a plain (manual) role; plugins use enrol_<name> and
// their instance id as ItemID.
type RoleAssignment struct {
	ID           int64  `json:"id"`
	RoleID       int64  `json:"roleid"`
	CourseID     int64  `json:"courseid"`
	UserID       int64  `json:"userid"`
	Component    string `json:"component,omitempty"`
	ItemID       int64  `json:"itemid,omitempty"`
	TimeModified int64  `json:"timemodified"`
}

// Group is a groups row; names are unique per course.
type Group struct {
	ID          int64  `json:"id"`
	CourseID    int64  `json:"courseid"`
	Name        string `json:"name"`
	IDNumber    string `json:"idnumber,omitempty"`
	Description string `json:"description,omitempty"`
}

// GroupMember is a groups_members row; (GroupID, UserID) is unique.
type GroupMember struct {
	ID        int64  `json:"id"`
	GroupID   int64  `json:"groupid"`
	UserID    int64  `json:"userid"`
	Component string `json:"component,omitempty"`
	ItemID    int64  `json:"itemid,omitempty"`
	TimeAdded int64  `json:"timeadded"`
}

// GradeDeletion records that Moodle would have deleted a user's grades in a course
// (grade_user_unenrol on their last enrolment), so tests can assert it never happens
// by accident.
type GradeDeletion struct {
	CourseID int64 `json:"courseid"`
	UserID   int64 `json:"userid"`
	Time     int64 `json:"time"`
}

// Lease is one local_enrolctl apply lease: who holds it until when (Unix seconds).
type Lease struct {
	Name    string `json:"name"`
	Holder  string `json:"holder"`
	Expires int64  `json:"expires"`
}

// LastAccess is a user_lastaccess row: when a user last opened a course.
type LastAccess struct {
	CourseID   int64 `json:"courseid"`
	UserID     int64 `json:"userid"`
	TimeAccess int64 `json:"timeaccess"`
}

// config is the site configuration the simulator honours.
type config struct {
	SiteName            string   `json:"sitename"`
	EnabledPlugins      []string `json:"enabledplugins"`
	CohortUnenrolAction int      `json:"cohortunenrolaction"`
	MetaUnenrolAction   int      `json:"metaunenrolaction"`
	TimeZone            string   `json:"timezone"`
	Debug               bool     `json:"debug"`
	WebServicesEnabled  bool     `json:"webservicesenabled"`
}

// db is the whole site: every table, keyed by id. Records are plain values, so a
// shallow clone of each map is a deep copy (used for transaction rollback).
type db struct {
	Config        config
	NextID        map[string]int64
	Categories    map[int64]Category
	Courses       map[int64]Course
	Users         map[int64]User
	Cohorts       map[int64]Cohort
	CohortMembers map[int64]CohortMember
	Instances     map[int64]Instance
	UEs           map[int64]UserEnrolment
	RAs           map[int64]RoleAssignment
	Groups        map[int64]Group
	Members       map[int64]GroupMember
	Grades        []GradeDeletion
	// LastAccess is user_lastaccess: (course, user) -> timeaccess.
	LastAccess map[courseUser]int64
	// Leases are local_enrolctl's apply leases by name.
	Leases map[string]Lease

	// ueIndex maps (enrolid, userid) to the user_enrolments id: the unique key.
	ueIndex map[[2]int64]int64
	// raIndex maps a role assignment's identity to its id (role_assign is idempotent).
	raIndex map[raKey]int64
}

type raKey struct {
	role, course, user, item int64
	component                string
}

func (ra RoleAssignment) key() raKey {
	return raKey{ra.RoleID, ra.CourseID, ra.UserID, ra.ItemID, ra.Component}
}

func (d *db) putRA(ra RoleAssignment) {
	d.RAs[ra.ID] = ra
	d.raIndex[ra.key()] = ra.ID
}

func (d *db) deleteRA(ra RoleAssignment) {
	delete(d.RAs, ra.ID)
	if d.raIndex[ra.key()] == ra.ID {
		delete(d.raIndex, ra.key())
	}
}

func newDB() *db {
	d := &db{
		NextID:        map[string]int64{},
		Categories:    map[int64]Category{},
		Courses:       map[int64]Course{},
		Users:         map[int64]User{},
		Cohorts:       map[int64]Cohort{},
		CohortMembers: map[int64]CohortMember{},
		Instances:     map[int64]Instance{},
		UEs:           map[int64]UserEnrolment{},
		RAs:           map[int64]RoleAssignment{},
		Groups:        map[int64]Group{},
		Members:       map[int64]GroupMember{},
		LastAccess:    map[courseUser]int64{},
		Leases:        map[string]Lease{},
		ueIndex:       map[[2]int64]int64{},
		raIndex:       map[raKey]int64{},
	}
	return d
}

func (d *db) clone() *db {
	c := *d
	c.NextID = maps.Clone(d.NextID)
	c.Config.EnabledPlugins = slices.Clone(d.Config.EnabledPlugins)
	c.Categories = maps.Clone(d.Categories)
	c.Courses = maps.Clone(d.Courses)
	c.Users = maps.Clone(d.Users)
	c.Cohorts = maps.Clone(d.Cohorts)
	c.CohortMembers = maps.Clone(d.CohortMembers)
	c.Instances = maps.Clone(d.Instances)
	c.UEs = maps.Clone(d.UEs)
	c.RAs = maps.Clone(d.RAs)
	c.Groups = maps.Clone(d.Groups)
	c.Members = maps.Clone(d.Members)
	c.Grades = slices.Clone(d.Grades)
	c.LastAccess = maps.Clone(d.LastAccess)
	c.Leases = maps.Clone(d.Leases)
	c.ueIndex = maps.Clone(d.ueIndex)
	c.raIndex = maps.Clone(d.raIndex)
	return &c
}

func (d *db) next(table string) int64 {
	d.NextID[table]++
	return d.NextID[table]
}

// reserve makes sure ids handed out later in table are above id.
func (d *db) reserve(table string, id int64) {
	if d.NextID[table] < id {
		d.NextID[table] = id
	}
}

func (d *db) pluginEnabled(name string) bool {
	return slices.Contains(d.Config.EnabledPlugins, name)
}

func (d *db) role(id int64) (Role, bool) {
	for _, r := range standardRoles {
		if r.ID == id {
			return r, true
		}
	}
	return Role{}, false
}

func roleShortname(id int64) string {
	for _, r := range standardRoles {
		if r.ID == id {
			return r.Shortname
		}
	}
	return ""
}

// assignableInCourse is get_assignable_roles() for a site admin in a course context.
func assignableInCourse(roleID int64) bool {
	for _, r := range standardRoles {
		if r.ID == roleID {
			return r.Course
		}
	}
	return false
}

func (d *db) userByUsername(username string) (User, bool) {
	for _, u := range d.Users {
		if u.Username == username && !u.Deleted {
			return u, true
		}
	}
	return User{}, false
}

func (d *db) courseByShortname(shortname string) (Course, bool) {
	for _, c := range d.Courses {
		if c.Shortname == shortname {
			return c, true
		}
	}
	return Course{}, false
}

func (d *db) cohortByIDNumber(idnumber string) (Cohort, bool) {
	for _, c := range d.Cohorts {
		if c.IDNumber == idnumber {
			return c, true
		}
	}
	return Cohort{}, false
}

// categoryPath is the category names from the top joined with " / ".
func (d *db) categoryPath(id int64) string {
	var names []string
	for seen := 0; id != 0 && seen < 100; seen++ {
		c, ok := d.Categories[id]
		if !ok {
			break
		}
		names = append(names, c.Name)
		id = c.Parent
	}
	slices.Reverse(names)
	return strings.Join(names, " / ")
}

// categoryAncestors returns id and every parent category of it.
func (d *db) categoryAncestors(id int64) []int64 {
	var out []int64
	for seen := 0; id != 0 && seen < 100; seen++ {
		out = append(out, id)
		id = d.Categories[id].Parent
	}
	return out
}

// courseInstances returns the course's instances ordered by sortorder, id
// (enrol_get_instances).
func (d *db) courseInstances(courseID int64) []Instance {
	var out []Instance
	for _, e := range d.Instances {
		if e.CourseID == courseID {
			out = append(out, e)
		}
	}
	slices.SortFunc(out, func(a, b Instance) int {
		if a.SortOrder != b.SortOrder {
			return a.SortOrder - b.SortOrder
		}
		return cmpID(a.ID, b.ID)
	})
	return out
}

func cmpID(a, b int64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func (d *db) ue(enrolID, userID int64) (UserEnrolment, bool) {
	id, ok := d.ueIndex[[2]int64{enrolID, userID}]
	if !ok {
		return UserEnrolment{}, false
	}
	return d.UEs[id], true
}

func (d *db) putUE(ue UserEnrolment) {
	d.UEs[ue.ID] = ue
	d.ueIndex[[2]int64{ue.EnrolID, ue.UserID}] = ue.ID
}

func (d *db) deleteUE(ue UserEnrolment) {
	delete(d.UEs, ue.ID)
	delete(d.ueIndex, [2]int64{ue.EnrolID, ue.UserID})
}

func (d *db) rebuildIndex() {
	d.ueIndex = make(map[[2]int64]int64, len(d.UEs))
	for _, ue := range d.UEs {
		d.ueIndex[[2]int64{ue.EnrolID, ue.UserID}] = ue.ID
	}
	d.raIndex = make(map[raKey]int64, len(d.RAs))
	for _, ra := range d.RAs {
		d.raIndex[ra.key()] = ra.ID
	}
}

// instanceUEs returns the rows of one instance ordered by user id.
func (d *db) instanceUEs(enrolID int64) []UserEnrolment {
	var out []UserEnrolment
	for _, ue := range d.UEs {
		if ue.EnrolID == enrolID {
			out = append(out, ue)
		}
	}
	slices.SortFunc(out, func(a, b UserEnrolment) int { return cmpID(a.UserID, b.UserID) })
	return out
}

// isEnrolled is is_enrolled() without onlyactive: any row in any instance of the course.
func (d *db) isEnrolled(courseID, userID int64) bool {
	for _, e := range d.Instances {
		if e.CourseID == courseID {
			if _, ok := d.ue(e.ID, userID); ok {
				return true
			}
		}
	}
	return false
}

func (d *db) groupMember(groupID, userID int64) (GroupMember, bool) {
	for _, m := range d.Members {
		if m.GroupID == groupID && m.UserID == userID {
			return m, true
		}
	}
	return GroupMember{}, false
}

func (d *db) groupByName(courseID int64, name string) (Group, bool) {
	for _, g := range d.Groups {
		if g.CourseID == courseID && g.Name == name {
			return g, true
		}
	}
	return Group{}, false
}

func (d *db) cohortMember(cohortID, userID int64) bool {
	for _, m := range d.CohortMembers {
		if m.CohortID == cohortID && m.UserID == userID {
			return true
		}
	}
	return false
}

// cohortAvailable is cohort_get_available_cohorts(): system cohorts, or cohorts of the
// course's category or one of its parents.
func (d *db) cohortAvailable(c Cohort, courseID int64) bool {
	if c.CategoryID == 0 {
		return true
	}
	return slices.Contains(d.categoryAncestors(d.Courses[courseID].Category), c.CategoryID)
}

// courseRAs returns the role assignments of a course context.
func (d *db) courseRAs(courseID int64) []RoleAssignment {
	var out []RoleAssignment
	for _, ra := range d.RAs {
		if ra.CourseID == courseID {
			out = append(out, ra)
		}
	}
	return out
}

// userCourseRAs returns a user's role assignments in a course context.
func (d *db) userCourseRAs(courseID, userID int64) []RoleAssignment {
	var out []RoleAssignment
	for _, ra := range d.RAs {
		if ra.CourseID == courseID && ra.UserID == userID {
			out = append(out, ra)
		}
	}
	return out
}
