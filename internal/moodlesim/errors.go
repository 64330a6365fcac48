package moodlesim

import (
	"cmp"
	"fmt"
	"strings"
)

// wsError is a Moodle exception as generate_error() serialises it.
type wsError struct {
	Exception string `json:"exception"`
	ErrorCode string `json:"errorcode"`
	Message   string `json:"message"`
	DebugInfo string `json:"debuginfo,omitempty"`
}

func (e *wsError) Error() string { return e.ErrorCode + ": " + e.Message }

const (
	exMoodle       = `core\exception\moodle_exception`
	exInvalidParam = `core\exception\invalid_parameter_exception`
	exCapability   = `core\exception\required_capability_exception`
	exCoding       = `core\exception\coding_exception`
	exAccess       = `webservice_access_exception`
	exMissing      = `dml_missing_record_exception`
	exWrite        = `dml_write_exception`
)

func newInvalidParam(debug string) *wsError {
	return &wsError{Exception: exInvalidParam, ErrorCode: "invalidparameter", Message: "Invalid parameter value detected", DebugInfo: debug}
}

// localMessages are lang/en/local_enrolctl.php, part of the contract.
var localMessages = map[string]string{
	"plugindisabled":     "The enrolment plugin {$a} is disabled on this site.",
	"unsupportedmethod":  "enrolctl cannot manage enrolment method {$a}.",
	"databaseinstance":   "Instance {$a} belongs to the external database sync; enrolctl never changes it.",
	"cannotaddinstance":  "Cannot add a {$a->enrol} instance to course {$a->courseid}: the course already has one or the plugin refuses it.",
	"duplicateinstance":  "Course {$a->courseid} already has an equivalent {$a->enrol} instance ({$a->id}).",
	"unknowncohort":      "Cohort {$a} does not exist.",
	"cohortnotavailable": "Cohort {$a->cohortid} is not available in course {$a->courseid}.",
	"unknowncourse":      "Course {$a} does not exist.",
	"invalidlink":        "A course cannot be linked to itself (course {$a}).",
	"invalidgroup":       "Group {$a->groupid} is not a group of course {$a->courseid}.",
	"invalidrole":        "Role {$a->roleid} cannot be assigned in course {$a->courseid}.",
	"unknowninstance":    "Enrolment instance {$a} does not exist.",
	"instancenotmanual":  "Enrolment instance {$a} is not a manual or self instance.",
	"unknownuser":        "User {$a} does not exist or is deleted.",
	"invalidpayload":     "Invalid payload: {$a}",
	"invalidtimes":       "Invalid enrolment times for user {$a}.",
	"notmanualmember":    "User {$a->userid} is not a manual member of group {$a->groupid}.",
	"cannotunenrol":      "The enrolment plugin {$a} does not allow unenrolling this user.",
	"notenrolled":        "User {$a->userid} is not enrolled in course {$a->courseid}.",
}

// otherMessages are the core and plugin strings the simulator raises.
var otherMessages = map[string]string{
	"invalidtoken":               "Invalid token - token not found",
	"accessexception":            "Access control exception",
	"errorcoursecontextnotvalid": "You cannot execute functions in the course context (course id:{$a->courseid}). The context error message was: {$a->message}",
	"errorremovenotpermitted":    "You do not have permission to remove automatically-added group member {$a}",
	"wsnoinstance":               "Manual enrolment plugin instance doesn't exist or is disabled for the course (id = {$a->courseid})",
	"wsusercannotassign":         "You don't have the permission to assign this role ({$a->roleid}) to this user ({$a->userid}) in this course ({$a->courseid}).",
	"userdeleted":                "This user account has been deleted",
	"usernamelowercase":          "Only lowercase letters allowed",
	"shortnametaken":             "Short name is already used for another course ({$a})",
	"courseidnumbertaken":        "ID number is already used for another course ({$a})",
	"categoryidnumbertaken":      "ID number is already used for another category",
	"duplicateidnumber":          "Cohort with the same ID number already exists",
	"idnumbertaken":              "This ID number is already in use",
	"dmlwriteexception":          "Error writing to database",
}

// format fills {$a} and {$a->key} placeholders like get_string().
func format(msg string, a any) string {
	switch v := a.(type) {
	case map[string]any:
		for k, x := range v {
			msg = strings.ReplaceAll(msg, "{$a->"+k+"}", fmt.Sprint(x))
		}
	case nil:
	default:
		msg = strings.ReplaceAll(msg, "{$a}", fmt.Sprint(v))
	}
	return msg
}

// localErr is new moodle_exception(code, 'local_enrolctl', ”, $a).
func localErr(code string, a any) *wsError {
	return &wsError{Exception: exMoodle, ErrorCode: code, Message: format(localMessages[code], a)}
}

// moodleErr is a moodle_exception of another component.
func moodleErr(code string, a any) *wsError {
	return &wsError{Exception: exMoodle, ErrorCode: code, Message: format(otherMessages[code], a)}
}

// missingRecord is dml_missing_record_exception: the code and message depend on the
// site's debug level (dmllib.php).
func (s *Sim) missingRecord(table, sql string) *wsError {
	if !s.d.Config.Debug {
		return &wsError{Exception: exMissing, ErrorCode: "invalidrecordunknown", Message: "Can't find data record in database."}
	}
	if table == "user" {
		return &wsError{Exception: exMissing, ErrorCode: "invaliduser", Message: "Invalid user", DebugInfo: sql}
	}
	return &wsError{Exception: exMissing, ErrorCode: "invalidrecord", Message: "Can't find data record in database table " + table + ".", DebugInfo: sql}
}

func (s *Sim) missingByID(table string, id int64) *wsError {
	return s.missingRecord(table, fmt.Sprintf("SELECT * FROM {%s} WHERE id = ?\n[array (\n  0 => %d,\n)]", table, id))
}

// capabilityNames are the display names require_capability puts in the message.
var capabilityNames = map[string]string{
	"moodle/course:view":              "View courses without participation",
	"moodle/course:enrolreview":       "Review course enrolments",
	"moodle/course:enrolconfig":       "Configure enrol instances in courses",
	"moodle/course:managegroups":      "Manage groups",
	"moodle/cohort:view":              "View site cohorts",
	"moodle/cohort:manage":            "Create, delete and move cohorts",
	"moodle/cohort:assign":            "Add and remove cohort members",
	"moodle/user:create":              "Create users",
	"moodle/category:manage":          "Manage course categories",
	"moodle/course:create":            "Create courses",
	"moodle/user:viewdetails":         "View user profiles",
	"enrol/manual:enrol":              "Enrol users",
	"enrol/manual:unenrol":            "Unenrol users from the course",
	"enrol/manual:manage":             "Manage user enrolments",
	"enrol/self:manage":               "Manage enrolled users",
	"enrol/self:unenrol":              "Unenrol users from course",
	"enrol/manual:config":             "Configure manual enrol instances",
	"enrol/self:config":               "Configure self enrol instances",
	"enrol/guest:config":              "Configure guest access instances",
	"enrol/cohort:config":             "Configure cohort instances",
	"enrol/meta:config":               "Configure meta instances",
	"enrol/meta:selectaslinked":       "Select course as meta linked",
	"moodle/course:viewhiddencourses": "View hidden courses",
	"moodle/course:viewparticipants":  "View participants",
	"moodle/role:assign":              "Assign roles to users",
	"local/enrolctl:manage":           "Manage enrolments with enrolctl",
}

func noPermission(capability string) *wsError {
	name := cmp.Or(capabilityNames[capability], capability)
	return &wsError{Exception: exCapability, ErrorCode: "nopermissions",
		Message: "Sorry, but you do not currently have permissions to do that (" + name + ")."}
}
