package moodlesim

import "slices"

// function is one external function: its parameter description, whether it writes,
// whether it runs in one delegated transaction, and its body.
type function struct {
	params *desc
	write  bool
	tx     bool
	run    func(*ctx, args) (any, *wsError)
}

func read(params *desc, run func(*ctx, args) (any, *wsError)) function {
	return function{params: params, run: run}
}

func write(params *desc, run func(*ctx, args) (any, *wsError)) function {
	return function{params: params, write: true, tx: true, run: run}
}

// local is a local_enrolctl function: since contract v2 every one requires
// local/enrolctl:manage in the system context before its own checks.
func local(f function) function {
	run := f.run
	f.run = func(c *ctx, a args) (any, *wsError) {
		if err := c.require("local/enrolctl:manage"); err != nil {
			return nil, err
		}
		return run(c, a)
	}
	return f
}

var (
	intList = list(val(pInt))
	i0      = int64(0)
)

// functions are every external function the simulator knows; an unknown name is a
// missing external_functions record, as in Moodle.
var functions = map[string]function{
	"local_enrolctl_get_site_status": local(read(obj(), getSiteStatus)),
	"local_enrolctl_get_courses": local(read(obj(
		def("page", val(pInt), i0),
		def("perpage", val(pInt), int64(500)),
		def("withstatus", val(pBool), false), // since contract.PluginCoursesWithStatus (paramsBefore)
		def("shortnames", val(pRaw), ""),     // since contract.PluginSiteWithRows (paramsBefore)
	), getCourses)),
	"local_enrolctl_get_course_state":      local(read(obj(req("courseids", intList)), getCourseState)),
	"local_enrolctl_get_course_state_json": local(read(obj(req("courseids", intList)), getCourseStateJSON)),
	"local_enrolctl_get_user_ids":          local(read(obj(req("usernames", val(pRaw))), getUserIDs)),
	"local_enrolctl_get_course_rows": local(read(obj(
		def("courseids", val(pRaw), ""),
		def("shortnames", val(pRaw), ""), // since contract.PluginRowsByName (paramsBefore)
	), getCourseRows)),
	"local_enrolctl_add_instances": local(write(obj(req("instances", list(obj(
		req("courseid", val(pInt)),
		req("enrol", val(pPlugin)),
		def("name", val(pText), ""),
		def("status", val(pInt), i0),
		def("roleid", val(pInt), i0),
		def("cohortid", val(pInt), i0),
		def("linkedcourseid", val(pInt), i0),
		def("groupid", val(pInt), i0),
		def("maxenrolled", val(pInt), i0),
	)))), addInstances)),
	"local_enrolctl_update_instances": local(write(obj(req("instances", list(obj(
		req("id", val(pInt)),
		opt("name", val(pText)),
		opt("status", val(pInt)),
		opt("roleid", val(pInt)),
		opt("groupid", val(pInt)),
		opt("maxenrolled", val(pInt)),
	)))), updateInstances)),
	"local_enrolctl_delete_instances": local(write(obj(req("instanceids", intList)), deleteInstances)),
	"local_enrolctl_set_enrolments": local(write(obj(req("enrolments", list(obj(
		req("instanceid", val(pInt)),
		req("userid", val(pInt)),
		req("roleid", val(pInt)),
		req("timestart", val(pInt)),
		req("timeend", val(pInt)),
		req("suspended", val(pInt)),
	)))), setEnrolments)),
	"local_enrolctl_unenrol_users": local(write(obj(req("enrolments", list(obj(
		req("instanceid", val(pInt)),
		req("userid", val(pInt)),
	)))), unenrolUsers)),

	"local_enrolctl_write": local(function{params: obj(
		req("operation", val(pRaw)),
		req("items", val(pRaw)),
	), write: true, run: localWrite}), // one transaction per course, not per call
	"local_enrolctl_acquire_lease": local(write(obj(
		req("name", val(pAlphaNumExt)),
		req("holder", val(pRaw)),
		req("ttl", val(pInt)),
	), acquireLease)),
	"local_enrolctl_release_lease": local(write(obj(
		req("name", val(pAlphaNumExt)),
		req("holder", val(pRaw)),
	), releaseLease)),

	"core_webservice_get_site_info": read(obj(defList("serviceshortnames", list(val(pAlphaNumExt)))), getSiteInfo),
	"core_user_get_users_by_field": read(obj(
		req("field", val(pAlpha)),
		req("values", list(val(pRaw))),
	), getUsersByField),
	"core_cohort_search_cohorts": read(obj(
		req("query", val(pRaw)),
		req("context", obj(
			def("contextid", val(pInt), i0),
			def("contextlevel", val(pAlpha), ""),
			def("instanceid", val(pInt), i0),
		)),
		def("includes", val(pAlpha), "parents"),
		def("limitfrom", val(pInt), i0),
		def("limitnum", val(pInt), int64(25)),
	), searchCohorts),
	"core_cohort_get_cohorts":        read(obj(defList("cohortids", intList)), getCohorts),
	"core_cohort_get_cohort_members": read(obj(req("cohortids", intList)), getCohortMembers),
	"core_group_create_groups": write(obj(req("groups", list(obj(
		req("courseid", val(pInt)),
		req("name", val(pText)),
		req("description", val(pRaw)),
		def("descriptionformat", val(pInt), int64(1)),
		opt("enrolmentkey", val(pRaw)),
		opt("idnumber", val(pRaw)),
		def("visibility", val(pInt), i0),
		def("participation", val(pBool), true),
		opt("customfields", list(obj(req("shortname", val(pAlphaNumExt)), req("value", val(pRaw))))),
	)))), createGroups),
	"core_group_get_course_groups":    read(obj(req("courseid", val(pInt))), getCourseGroups),
	"core_group_add_group_members":    write(obj(req("members", list(memberDesc))), addGroupMembers),
	"core_group_delete_group_members": write(obj(req("members", list(memberDesc))), deleteGroupMembers),
	"core_enrol_get_enrolled_users": read(obj(
		req("courseid", val(pInt)),
		defList("options", list(obj(req("name", val(pAlphaNumExt)), req("value", val(pRaw))))),
	), getEnrolledUsers),

	"core_user_create_users": write(obj(req("users", list(obj(
		def("createpassword", val(pBool), false),
		req("username", val(pRaw)),
		def("auth", val(pPlugin), "manual"),
		opt("password", val(pRaw)),
		req("firstname", val(pNoTags)),
		req("lastname", val(pNoTags)),
		req("email", val(pRaw)),
		opt("maildisplay", val(pInt)),
		opt("city", val(pNoTags)),
		opt("country", val(pAlpha)),
		opt("timezone", val(pRaw)),
		opt("description", val(pRaw)),
		opt("firstnamephonetic", val(pNoTags)),
		opt("lastnamephonetic", val(pNoTags)),
		opt("middlename", val(pNoTags)),
		opt("alternatename", val(pNoTags)),
		opt("interests", val(pText)),
		def("idnumber", val(pRaw), ""),
		opt("institution", val(pText)),
		opt("department", val(pText)),
		opt("phone1", val(pNoTags)),
		opt("phone2", val(pNoTags)),
		opt("address", val(pText)),
		def("lang", val(pRaw), "en"),
		def("calendartype", val(pRaw), "gregorian"),
		opt("theme", val(pRaw)),
		opt("mailformat", val(pInt)),
		opt("customfields", list(obj(req("type", val(pAlphaNumExt)), req("value", val(pRaw))))),
		opt("preferences", list(obj(req("type", val(pRaw)), req("value", val(pRaw))))),
	)))), createUsers),
	"core_course_create_categories": write(obj(req("categories", list(obj(
		req("name", val(pText)),
		def("parent", val(pInt), i0),
		opt("idnumber", val(pRaw)),
		opt("description", val(pRaw)),
		def("descriptionformat", val(pInt), int64(1)),
		opt("theme", val(pRaw)),
	)))), createCategories),
	"core_course_create_courses": write(obj(req("courses", list(obj(
		req("fullname", val(pText)),
		req("shortname", val(pText)),
		req("categoryid", val(pInt)),
		opt("idnumber", val(pRaw)),
		opt("summary", val(pRaw)),
		def("summaryformat", val(pInt), int64(1)),
		def("format", val(pPlugin), "topics"),
		opt("showgrades", val(pInt)),
		opt("newsitems", val(pInt)),
		opt("startdate", val(pInt)),
		opt("enddate", val(pInt)),
		opt("numsections", val(pInt)),
		opt("maxbytes", val(pInt)),
		opt("showreports", val(pInt)),
		opt("visible", val(pInt)),
		opt("hiddensections", val(pInt)),
		opt("groupmode", val(pInt)),
		opt("groupmodeforce", val(pInt)),
		opt("defaultgroupingid", val(pInt)),
		opt("enablecompletion", val(pInt)),
		opt("completionnotify", val(pInt)),
		opt("lang", val(pRaw)),
		opt("forcetheme", val(pRaw)),
		opt("courseformatoptions", list(obj(req("name", val(pAlphaNumExt)), req("value", val(pRaw))))),
		opt("customfields", list(obj(req("shortname", val(pAlphaNumExt)), req("value", val(pRaw))))),
	)))), createCourses),
	"core_cohort_create_cohorts": write(obj(req("cohorts", list(obj(
		req("categorytype", obj(req("type", val(pText)), req("value", val(pRaw)))),
		req("name", val(pRaw)),
		req("idnumber", val(pRaw)),
		opt("description", val(pRaw)),
		def("descriptionformat", val(pInt), int64(1)),
		opt("visible", val(pBool)),
		opt("theme", val(pRaw)),
		opt("customfields", list(obj(req("shortname", val(pAlphaNumExt)), req("value", val(pRaw))))),
	)))), createCohorts),
	"core_cohort_add_cohort_members": write(obj(req("members", list(obj(
		req("cohorttype", obj(req("type", val(pAlphaNumExt)), req("value", val(pRaw)))),
		req("usertype", obj(req("type", val(pAlphaNumExt)), req("value", val(pRaw)))),
	)))), addCohortMembers),
	"core_cohort_delete_cohort_members": write(obj(req("members", list(obj(
		req("cohortid", val(pInt)),
		req("userid", val(pInt)),
	)))), deleteCohortMembers),
	"enrol_manual_enrol_users": write(obj(req("enrolments", list(obj(
		req("roleid", val(pInt)),
		req("userid", val(pInt)),
		req("courseid", val(pInt)),
		opt("timestart", val(pInt)),
		opt("timeend", val(pInt)),
		opt("suspend", val(pInt)),
	)))), manualEnrolUsers),
	"enrol_manual_unenrol_users": write(obj(req("enrolments", list(obj(
		req("userid", val(pInt)),
		req("courseid", val(pInt)),
		opt("roleid", val(pInt)),
	)))), manualUnenrolUsers),
	"enrol_meta_add_instances": {params: obj(req("instances", list(obj(
		req("metacourseid", val(pInt)),
		req("courseid", val(pRaw)),
		def("creategroup", val(pBool), false),
	)))), write: true, run: metaAddInstances},
}

var memberDesc = obj(req("groupid", val(pInt)), req("userid", val(pInt)))

// enrolctlFunctions is the enrolctl service of db/services.php.
var enrolctlFunctions = []string{
	"local_enrolctl_get_site_status",
	"local_enrolctl_get_courses",
	"local_enrolctl_get_course_state",
	"local_enrolctl_get_course_state_json",
	"local_enrolctl_get_course_rows",
	"local_enrolctl_get_user_ids",
	"local_enrolctl_add_instances",
	"local_enrolctl_update_instances",
	"local_enrolctl_delete_instances",
	"local_enrolctl_set_enrolments",
	"local_enrolctl_unenrol_users",
	"local_enrolctl_write",
	"local_enrolctl_acquire_lease",
	"local_enrolctl_release_lease",
	"core_webservice_get_site_info",
	"core_user_get_users_by_field",
	"core_cohort_search_cohorts",
	"core_group_create_groups",
	"core_group_add_group_members",
	"core_group_delete_group_members",
}

// readFunctions is the read-only enrolctl_read service of db/services.php (plugin
// 2026113003): what planning needs, nothing that writes.
var readFunctions = []string{
	"local_enrolctl_get_site_status",
	"local_enrolctl_get_courses",
	"local_enrolctl_get_course_state",
	"local_enrolctl_get_course_state_json",
	"local_enrolctl_get_course_rows",
	"local_enrolctl_get_user_ids",
	"core_webservice_get_site_info",
	"core_user_get_users_by_field",
	"core_cohort_search_cohorts",
}

// testingExtra are the fixture functions enrolctl_testing adds (docs/contract.md and
// the plugin's db/services.php).
var testingExtra = []string{
	"core_user_create_users",
	"core_course_create_categories",
	"core_course_create_courses",
	"core_cohort_create_cohorts",
	"core_cohort_add_cohort_members",
	"core_cohort_delete_cohort_members",
	"enrol_manual_enrol_users",
	"core_enrol_get_enrolled_users",
}

// simOnly are functions the simulator implements that no enrolctl service holds; only
// ServiceAll reaches them, so a test that needs them cannot pass here and fail on a
// real site for lack of access.
var simOnly = []string{
	"enrol_manual_unenrol_users",
	"core_cohort_get_cohorts",
	"core_cohort_get_cohort_members",
	"core_group_get_course_groups",
	"enrol_meta_add_instances",
}

func serviceFunctions(service string) []string {
	switch service {
	case ServiceEnrolctl:
		return enrolctlFunctions
	case ServiceRead:
		return readFunctions
	case ServiceTesting:
		return slices.Concat(enrolctlFunctions, testingExtra)
	case ServiceAll:
		return slices.Concat(enrolctlFunctions, testingExtra, simOnly)
	}
	return nil
}
