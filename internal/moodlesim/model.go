package moodlesim

import (
	"cmp"
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
	// DatabaseUnenrolAction is enrol_database/unenrolaction (default UNENROL).
	DatabaseUnenrolAction int    `json:"databaseunenrolaction,omitempty"`
	TimeZone              string `json:"timezone"`
	Debug                 bool   `json:"debug"`
	WebServicesEnabled    bool   `json:"webservicesenabled"`
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

// cmpID orders ids.
var cmpID = cmp.Compare[int64]

// cohortAvailable is cohort_get_available_cohorts(): system cohorts, or cohorts of the
// course's category or one of its parents.
func (d *db) cohortAvailable(c Cohort, courseID int64) bool {
	if c.CategoryID == 0 {
		return true
	}
	return slices.Contains(d.categoryAncestors(d.Courses[courseID].Category), c.CategoryID)
}
