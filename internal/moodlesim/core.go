package moodlesim

import (
	"crypto/md5"
	"encoding/hex"
	"fmt"
	"net/mail"
	"regexp"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"
)

// The core functions enrolctl and its end-to-end suite use.

func getSiteInfo(c *ctx, _ args) (any, *wsError) {
	type fn struct {
		Name    string `json:"name"`
		Version string `json:"version"`
	}
	fns := make([]fn, 0)
	for _, name := range serviceFunctions(c.service) {
		v := moodleVersion
		if strings.HasPrefix(name, "local_enrolctl_") {
			v = itoa(pluginVersion)
		}
		fns = append(fns, fn{name, v})
	}
	u := c.user
	type feature struct {
		Name  string `json:"name"`
		Value int    `json:"value"`
	}
	// The enable/disable settings get_site_info reports, at their install defaults.
	features := []feature{{"usecomments", 1}, {"usetags", 1}, {"enablenotes", 1}, {"messaging", 1}, {"enableblogs", 1},
		{"enablecompletion", 1}, {"enablebadges", 1}, {"messagingallusers", 0}, {"enablecustomreports", 1},
		{"enableglobalsearch", 0}, {"mnet_dispatcher_mode", 0}, {"enablecompetencies", 1}}
	quota := int64(104857600) // $CFG->userquota; admins hold moodle/user:ignoreuserquota
	if u.SiteAdmin {
		quota = 0
	}
	return struct {
		SiteName              string    `json:"sitename"`
		Username              string    `json:"username"`
		Firstname             string    `json:"firstname"`
		Lastname              string    `json:"lastname"`
		Fullname              string    `json:"fullname"`
		Lang                  string    `json:"lang"`
		UserID                int64     `json:"userid"`
		SiteURL               string    `json:"siteurl"`
		UserPictureURL        string    `json:"userpictureurl"`
		Functions             []fn      `json:"functions"`
		DownloadFiles         int       `json:"downloadfiles"`
		UploadFiles           int       `json:"uploadfiles"`
		Release               string    `json:"release"`
		Version               string    `json:"version"`
		MobileCSSURL          string    `json:"mobilecssurl"`
		AdvancedFeatures      []feature `json:"advancedfeatures"`
		UserCanManage         bool      `json:"usercanmanageownfiles"`
		UserQuota             int64     `json:"userquota"`
		UserMaxUpload         int64     `json:"usermaxuploadfilesize"`
		UserHomePage          int       `json:"userhomepage"`
		UserPrivateAccessKey  string    `json:"userprivateaccesskey"`
		SiteID                int64     `json:"siteid"`
		SiteCalendar          string    `json:"sitecalendartype"`
		UserCalendar          string    `json:"usercalendartype"`
		UserIsSiteAdmin       bool      `json:"userissiteadmin"`
		Theme                 string    `json:"theme"`
		LimitConcurrentLogins int       `json:"limitconcurrentlogins"`
		PolicyAgreed          int       `json:"policyagreed"`
	}{c.d().Config.SiteName, u.Username, u.Firstname, u.Lastname, fullname(u), "en", u.ID, c.siteURL,
		c.siteURL + "/theme/image.php/boost/core/1/u/f1", fns, 0, 0, moodleRelease, moodleVersion, "", features, true,
		quota, -1, 1, userPrivateAccessKey(c.d().Config.SiteName, u.ID), SiteCourseID, "gregorian", "gregorian",
		u.SiteAdmin, "boost", 0, 0}, nil
}

// userPrivateAccessKey stands for get_user_key('core_files', $userid): 32 alphanumeric
// characters, the same on every call for a user. It is derived, not random, so the
// simulator stays deterministic; it grants nothing here.
func userPrivateAccessKey(site string, userID int64) string {
	sum := md5.Sum([]byte("core_files:" + site + ":" + itoa(userID)))
	return hex.EncodeToString(sum[:])
}

func fullname(u User) string { return u.Firstname + " " + u.Lastname }

type userDetails struct {
	ID                   int64   `json:"id"`
	Username             string  `json:"username"`
	Firstname            string  `json:"firstname"`
	Lastname             string  `json:"lastname"`
	Fullname             string  `json:"fullname"`
	Email                string  `json:"email"`
	Department           string  `json:"department"`
	IDNumber             string  `json:"idnumber,omitempty"`
	FirstAccess          int64   `json:"firstaccess"`
	LastAccess           int64   `json:"lastaccess"`
	Auth                 string  `json:"auth"`
	Suspended            bool    `json:"suspended"`
	Confirmed            bool    `json:"confirmed"`
	Lang                 string  `json:"lang"`
	Theme                string  `json:"theme"`
	Timezone             string  `json:"timezone"`
	MailFormat           int     `json:"mailformat"`
	TrackForums          int     `json:"trackforums"`
	Description          *string `json:"description,omitempty"`
	DescriptionFormat    *int    `json:"descriptionformat,omitempty"`
	ProfileImageURLSmall string  `json:"profileimageurlsmall"`
	ProfileImageURL      string  `json:"profileimageurl"`
}

func (c *ctx) details(u User) userDetails {
	auth := u.Auth
	if auth == "" {
		auth = "manual"
	}
	// user_get_user_details sends description (and its format) only when it is not NULL.
	var format *int
	if u.Description != nil {
		format = new(1) // FORMAT_HTML
	}
	return userDetails{u.ID, u.Username, u.Firstname, u.Lastname, fullname(u), u.Email, "", u.IDNumber, 0, 0, auth,
		u.Suspended, true, "en", "", "99", 1, 0, u.Description, format,
		c.siteURL + "/theme/image.php/boost/core/1/u/f2", c.siteURL + "/theme/image.php/boost/core/1/u/f1"}
}

var usernameRE = regexp.MustCompile(`[^-\.@_a-z0-9]`)

// cleanUsername is clean_param(PARAM_USERNAME).
func cleanUsername(v string) string {
	return usernameRE.ReplaceAllString(strings.ToLower(strings.TrimSpace(v)), "")
}

func getUsersByField(c *ctx, a args) (any, *wsError) {
	field := a.str("field")
	values := a.strs("values")
	var clean func(string) string
	switch field {
	case "id":
		clean = func(v string) string {
			if n, err := cleanValue(pInt, v); err == nil {
				return itoa(n.(int64))
			}
			return "0"
		}
	case "username":
		clean = cleanUsername
	case "email":
		clean = strings.TrimSpace
	case "idnumber":
		clean = func(v string) string { return v }
	default:
		return nil, &wsError{Exception: exCoding, ErrorCode: "codingerror",
			Message:   "Coding error detected, it must be fixed by a programmer: invalid field parameter",
			DebugInfo: "The search field '" + field + "' is not supported, look at the web service documentation"}
	}
	want := map[string]bool{}
	for _, v := range values {
		if cv := clean(v); cv != v {
			return nil, invalidParam(fmt.Sprintf("The field '%s' value is invalid: %s(cleaned value: %s)", field, v, cv))
		}
		want[v] = true
	}
	d := c.d()
	var users []User
	// By id and username through the indexes; e-mail and idnumber scan, as the
	// unindexed columns do in Moodle.
	candidates := d.Users
	if field == "id" || field == "username" {
		candidates = map[int64]User{}
		for v := range want {
			var u User
			var ok bool
			if field == "username" {
				u, ok = d.userByUsername(v)
			} else {
				n, _ := cleanValue(pInt, v)
				id, _ := n.(int64)
				u, ok = d.Users[id]
			}
			if ok {
				candidates[u.ID] = u
			}
		}
	}
	for _, u := range candidates {
		// Deleted users are never returned (user_get_user_details gives null).
		if u.Deleted {
			continue
		}
		var key string
		switch field {
		case "id":
			key = itoa(u.ID)
		case "username":
			key = u.Username
		case "email":
			key = u.Email
		case "idnumber":
			key = u.IDNumber
		}
		if want[key] {
			users = append(users, u)
		}
	}
	slices.SortFunc(users, func(x, y User) int { return cmpID(x.ID, y.ID) })
	out := make([]userDetails, 0, len(users))
	for _, u := range users {
		out = append(out, c.details(u))
	}
	return out, nil
}

// cohortInfo is the cohort structure of the cohort functions. Theme is always "":
// cohort_add_cohort stores ” when $CFG->allowcohortthemes is off (the simulator never
// allows cohort themes), and the functions null only a non-empty theme.
type cohortInfo struct {
	ID                int64    `json:"id"`
	Name              string   `json:"name"`
	IDNumber          string   `json:"idnumber"`
	Description       string   `json:"description"`
	DescriptionFormat int      `json:"descriptionformat"`
	Visible           bool     `json:"visible"`
	Theme             string   `json:"theme"`
	CustomFields      []string `json:"customfields"`
}

func toCohortInfo(co Cohort) cohortInfo {
	return cohortInfo{co.ID, co.Name, co.IDNumber, co.Description, 1, co.Visible, "", []string{}}
}

func searchCohorts(c *ctx, a args) (any, *wsError) {
	if err := c.require("moodle/cohort:view"); err != nil {
		return nil, err
	}
	includes := a.str("includes")
	if includes != "all" && includes != "parents" && includes != "self" {
		return nil, &wsError{Exception: exCoding, ErrorCode: "codingerror",
			Message: "Coding error detected, it must be fixed by a programmer: Invalid parameter value for 'includes'."}
	}
	ctxArg := a.obj("context")
	switch {
	case ctxArg.int("contextid") == 1: // the system context's id
		ctxArg = args{"contextlevel": "system"}
	case ctxArg.int("contextid") != 0:
		return nil, invalidParam("Context does not exist")
	case ctxArg.str("contextlevel") == "":
		return nil, invalidParam("Missing parameters, please provide either context level with instance id or contextid")
	}
	if lvl := ctxArg.str("contextlevel"); lvl != "" && lvl != "system" && lvl != "coursecat" {
		return nil, invalidParam("Context does not exist")
	}
	catID := int64(0)
	if ctxArg.str("contextlevel") == "coursecat" {
		catID = ctxArg.int("instanceid")
		if _, ok := c.d().Categories[catID]; !ok {
			return nil, invalidParam("Context does not exist")
		}
	}
	query := strings.ToLower(a.str("query"))
	var list []Cohort
	for _, co := range c.d().Cohorts {
		switch includes {
		case "self":
			if co.CategoryID != catID {
				continue
			}
		case "parents":
			if co.CategoryID != 0 && !slices.Contains(c.d().categoryAncestors(catID), co.CategoryID) {
				continue
			}
		}
		if query != "" && !strings.Contains(strings.ToLower(co.Name), query) && !strings.Contains(strings.ToLower(co.IDNumber), query) &&
			!strings.Contains(strings.ToLower(co.Description), query) {
			continue
		}
		list = append(list, co)
	}
	slices.SortFunc(list, func(x, y Cohort) int {
		if x.Name != y.Name {
			return strings.Compare(x.Name, y.Name)
		}
		return cmpID(x.ID, y.ID)
	})
	if n := a.int("limitnum"); n > 0 {
		page := max(0, min(a.int("limitfrom"), 1<<31)) // limitfrom is a page number
		from := int(min(page*min(n, 1<<31), int64(len(list))))
		list = list[from:int(min(int64(from)+n, int64(len(list))))]
	}
	out := make([]cohortInfo, 0, len(list))
	for _, co := range list {
		out = append(out, toCohortInfo(co))
	}
	return struct {
		Cohorts []cohortInfo `json:"cohorts"`
	}{out}, nil
}

func getCohorts(c *ctx, a args) (any, *wsError) {
	ids := a.ints("cohortids")
	var list []Cohort
	for _, co := range c.d().Cohorts {
		if len(ids) == 0 || slices.Contains(ids, co.ID) {
			list = append(list, co)
		}
	}
	slices.SortFunc(list, func(x, y Cohort) int { return cmpID(x.ID, y.ID) })
	out := make([]cohortInfo, 0, len(list))
	for _, co := range list {
		if err := c.require("moodle/cohort:view"); err != nil {
			return nil, err
		}
		out = append(out, toCohortInfo(co))
	}
	return out, nil
}

func getCohortMembers(c *ctx, a args) (any, *wsError) {
	d := c.d()
	type members struct {
		CohortID int64   `json:"cohortid"`
		UserIDs  []int64 `json:"userids"`
	}
	out := make([]members, 0)
	for _, id := range a.ints("cohortids") {
		if _, ok := d.Cohorts[id]; !ok {
			return nil, c.s.missingByID("cohort", id)
		}
		if err := c.require("moodle/cohort:view"); err != nil {
			return nil, err
		}
		ids := d.cohortMemberIDs(id)
		slices.SortStableFunc(ids, func(x, y int64) int {
			ux, uy := d.Users[x], d.Users[y]
			if ux.Lastname != uy.Lastname {
				return strings.Compare(ux.Lastname, uy.Lastname)
			}
			return strings.Compare(ux.Firstname, uy.Firstname)
		})
		out = append(out, members{id, append([]int64{}, ids...)})
	}
	return out, nil
}

// courseContext is validate_context() of a course context for the group functions:
// failures are wrapped as errorcoursecontextnotvalid.
func (c *ctx) courseContext(courseID int64) *wsError {
	if _, ok := c.d().Courses[courseID]; !ok {
		return moodleErr("errorcoursecontextnotvalid", map[string]any{"courseid": courseID, "message": "Invalid parameter value detected"})
	}
	return nil
}

type groupInfo struct {
	ID                int64  `json:"id"`
	CourseID          int64  `json:"courseid"`
	Name              string `json:"name"`
	Description       string `json:"description"`
	DescriptionFormat int64  `json:"descriptionformat"`
	EnrolmentKey      string `json:"enrolmentkey"`
	IDNumber          string `json:"idnumber"`
	Visibility        int64  `json:"visibility"`
	Participation     bool   `json:"participation"`
}

func createGroups(c *ctx, a args) (any, *wsError) {
	d := c.d()
	out := make([]groupInfo, 0)
	for _, it := range a.list("groups") {
		courseID := it.int("courseid")
		if err := c.courseContext(courseID); err != nil {
			return nil, err
		}
		if err := c.require("moodle/course:managegroups"); err != nil {
			return nil, err
		}
		name := strings.TrimSpace(it.str("name"))
		if name == "" {
			return nil, invalidParam("Invalid group name")
		}
		if _, ok := d.groupByName(courseID, name); ok {
			return nil, invalidParam("Group with the same name already exists in the course")
		}
		idnumber := it.str("idnumber")
		if idnumber != "" {
			for _, g := range d.courseGroups(courseID) {
				if g.IDNumber == idnumber {
					return nil, moodleErr("idnumbertaken", nil)
				}
			}
		}
		g := Group{ID: d.next("groups"), CourseID: courseID, Name: name, IDNumber: idnumber, Description: it.str("description")}
		d.putGroup(g)
		out = append(out, groupInfo{g.ID, courseID, name, g.Description, it.int("descriptionformat"), it.str("enrolmentkey"),
			idnumber, it.int("visibility"), it.bool("participation")})
	}
	return out, nil
}

func getCourseGroups(c *ctx, a args) (any, *wsError) {
	courseID := a.int("courseid")
	if err := c.courseContext(courseID); err != nil {
		return nil, err
	}
	if err := c.require("moodle/course:managegroups"); err != nil {
		return nil, err
	}
	var list []Group
	for _, g := range c.d().Groups {
		if g.CourseID == courseID {
			list = append(list, g)
		}
	}
	slices.SortFunc(list, func(x, y Group) int {
		if x.Name != y.Name {
			return strings.Compare(x.Name, y.Name)
		}
		return cmpID(x.ID, y.ID)
	})
	out := make([]groupInfo, 0, len(list))
	for _, g := range list {
		out = append(out, groupInfo{g.ID, g.CourseID, g.Name, g.Description, 1, "", g.IDNumber, 0, true})
	}
	return out, nil
}

// memberArgs resolves {groupid, userid} like the group functions do (MUST_EXIST).
func (c *ctx) memberArgs(it args) (Group, User, *wsError) {
	d := c.d()
	g, ok := d.Groups[it.int("groupid")]
	if !ok {
		return g, User{}, c.s.missingByID("groups", it.int("groupid"))
	}
	u, ok := d.Users[it.int("userid")]
	if !ok || u.Deleted {
		return g, u, c.s.missingByID("user", it.int("userid"))
	}
	if err := c.courseContext(g.CourseID); err != nil {
		return g, u, err
	}
	return g, u, c.require("moodle/course:managegroups")
}

func addGroupMembers(c *ctx, a args) (any, *wsError) {
	for _, it := range a.list("members") {
		g, u, err := c.memberArgs(it)
		if err != nil {
			return nil, err
		}
		if !c.t.addMember(g, u.ID, "", 0) {
			return nil, invalidParam("Only enrolled users may be members of groups")
		}
	}
	return nil, nil
}

func deleteGroupMembers(c *ctx, a args) (any, *wsError) {
	d := c.d()
	for _, it := range a.list("members") {
		g, u, err := c.memberArgs(it)
		if err != nil {
			return nil, err
		}
		m, ok := d.groupMember(g.ID, u.ID)
		if !ok {
			continue
		}
		// enrol_cohort_allow_group_member_remove() refuses; meta has no callback.
		if m.Component == "enrol_cohort" {
			return nil, moodleErr("errorremovenotpermitted", fullname(u))
		}
		d.delMember(m)
	}
	return nil, nil
}

// enrolledUser is core_enrol_get_enrolled_users' user structure.
type enrolledUser struct {
	ID                   int64            `json:"id"`
	Username             *string          `json:"username,omitempty"`
	Firstname            *string          `json:"firstname,omitempty"`
	Lastname             *string          `json:"lastname,omitempty"`
	Fullname             string           `json:"fullname"`
	Email                *string          `json:"email,omitempty"`
	IDNumber             *string          `json:"idnumber,omitempty"`
	FirstAccess          *int64           `json:"firstaccess,omitempty"`
	LastAccess           *int64           `json:"lastaccess,omitempty"`
	LastCourseAccess     *int64           `json:"lastcourseaccess,omitempty"`
	Description          *string          `json:"description,omitempty"`
	DescriptionFormat    *int64           `json:"descriptionformat,omitempty"`
	ProfileImageURLSmall *string          `json:"profileimageurlsmall,omitempty"`
	ProfileImageURL      *string          `json:"profileimageurl,omitempty"`
	Groups               *[]enrolledGroup `json:"groups,omitempty"`
	Roles                *[]enrolledRole  `json:"roles,omitempty"`
	EnrolledCourses      *[]enrolledIn    `json:"enrolledcourses,omitempty"`
}

type enrolledGroup struct {
	ID                int64  `json:"id"`
	Name              string `json:"name"`
	Description       string `json:"description"`
	DescriptionFormat int64  `json:"descriptionformat"`
}

type enrolledRole struct {
	RoleID    int64  `json:"roleid"`
	Name      string `json:"name"`
	Shortname string `json:"shortname"`
	SortOrder int    `json:"sortorder"`
}

type enrolledIn struct {
	ID        int64  `json:"id"`
	Fullname  string `json:"fullname"`
	Shortname string `json:"shortname"`
}

var enrolledUserFields = []string{"id", "username", "fullname", "firstname", "lastname", "email", "address", "phone1", "phone2",
	"department", "institution", "interests", "firstaccess", "lastaccess", "auth", "confirmed", "idnumber", "lang", "theme",
	"timezone", "mailformat", "description", "descriptionformat", "city", "country", "profileimageurlsmall", "profileimageurl",
	"customfields", "groups", "roles", "preferences", "enrolledcourses", "suspended", "lastcourseaccess", "trackforums"}

func getEnrolledUsers(c *ctx, a args) (any, *wsError) {
	d := c.d()
	courseID := a.int("courseid")
	if _, ok := d.Courses[courseID]; !ok {
		return nil, c.s.missingByID("course", courseID)
	}
	if err := c.require("moodle/course:viewparticipants"); err != nil {
		return nil, err
	}
	var onlyActive, onlySuspended bool
	var groupID int64
	limitFrom, limitNumber := int64(0), int64(0)
	var fields []string
	for _, o := range a.list("options") {
		v := o.str("value")
		switch o.str("name") {
		case "onlyactive":
			onlyActive = v == "1" || v == "true"
		case "onlysuspended":
			onlySuspended = v == "1" || v == "true"
		case "groupid":
			n, _ := cleanValue(pInt, v)
			groupID, _ = n.(int64)
		case "limitfrom":
			n, _ := cleanValue(pInt, v)
			limitFrom, _ = n.(int64)
		case "limitnumber":
			n, _ := cleanValue(pInt, v)
			limitNumber, _ = n.(int64)
		case "userfields":
			for _, f := range strings.Split(v, ",") {
				f = strings.TrimSpace(f)
				if !slices.Contains(enrolledUserFields, f) {
					return nil, &wsError{Exception: exMoodle, ErrorCode: "invaliduserfield", Message: "error/invaliduserfield"}
				}
				fields = append(fields, f)
			}
		case "sortby":
			if !slices.Contains([]string{"id", "firstname", "lastname", "siteorder"}, v) {
				return nil, invalidParam("Invalid value for sortby parameter (value: " + v + ")")
			}
		}
	}
	if onlyActive && onlySuspended {
		return nil, &wsError{Exception: exCoding, ErrorCode: "codingerror",
			Message: "Coding error detected, it must be fixed by a programmer: Both onlyactive and onlysuspended are set, this is probably not what you want!"}
	}
	now := c.t.now
	type stat struct{ any, active bool }
	users := map[int64]*stat{}
	for _, e := range d.courseInstances(courseID) {
		for _, ue := range d.instanceUEs(e.ID) {
			st := users[ue.UserID]
			if st == nil {
				st = &stat{}
				users[ue.UserID] = st
			}
			st.any = true
			if ue.Status == UserActive && e.Status == InstanceEnabled && ue.TimeStart < now && (ue.TimeEnd == 0 || ue.TimeEnd > now) {
				st.active = true
			}
		}
	}
	var ids []int64
	for uid, st := range users {
		if d.Users[uid].Deleted || (onlyActive && !st.active) || (onlySuspended && st.active) {
			continue
		}
		if groupID != 0 {
			if _, ok := d.groupMember(groupID, uid); !ok {
				continue
			}
		}
		ids = append(ids, uid)
	}
	slices.Sort(ids)
	if limitFrom > 0 {
		ids = ids[min(int(limitFrom), len(ids)):]
	}
	if limitNumber > 0 {
		ids = ids[:min(int(limitNumber), len(ids))]
	}
	want := func(f string) bool { return len(fields) == 0 || slices.Contains(fields, f) }
	out := make([]enrolledUser, 0, len(ids))
	for _, uid := range ids {
		u := d.Users[uid]
		eu := enrolledUser{ID: u.ID, Fullname: fullname(u)}
		str := func(f, v string, dst **string) {
			if want(f) {
				*dst = &v
			}
		}
		num := func(f string, v int64, dst **int64) {
			if want(f) {
				*dst = &v
			}
		}
		str("username", u.Username, &eu.Username)
		str("firstname", u.Firstname, &eu.Firstname)
		str("lastname", u.Lastname, &eu.Lastname)
		str("email", u.Email, &eu.Email)
		if u.IDNumber != "" {
			str("idnumber", u.IDNumber, &eu.IDNumber)
		}
		num("firstaccess", 0, &eu.FirstAccess)
		num("lastaccess", 0, &eu.LastAccess)
		num("lastcourseaccess", 0, &eu.LastCourseAccess)
		if u.Description != nil { // user_get_user_details leaves a NULL description out
			str("description", *u.Description, &eu.Description)
			num("descriptionformat", 1, &eu.DescriptionFormat)
		}
		str("profileimageurlsmall", c.siteURL+"/theme/image.php/boost/core/1/u/f2", &eu.ProfileImageURLSmall)
		str("profileimageurl", c.siteURL+"/theme/image.php/boost/core/1/u/f1", &eu.ProfileImageURL)
		if want("groups") {
			gs := make([]enrolledGroup, 0)
			for _, g := range d.courseGroups(courseID) {
				if _, ok := d.groupMember(g.ID, uid); ok {
					gs = append(gs, enrolledGroup{g.ID, g.Name, g.Description, 1})
				}
			}
			slices.SortFunc(gs, func(x, y enrolledGroup) int { return cmpID(x.ID, y.ID) })
			eu.Groups = &gs
		}
		if want("roles") {
			// get_user_roles(): one item per role assignment, so a role held through two
			// components appears twice; no component is given.
			ras := d.userCourseRAs(courseID, uid)
			slices.SortFunc(ras, func(x, y RoleAssignment) int {
				if x.RoleID != y.RoleID {
					return cmpID(x.RoleID, y.RoleID)
				}
				return cmpID(x.ID, y.ID)
			})
			rs := make([]enrolledRole, 0, len(ras))
			for _, ra := range ras {
				r, _ := d.role(ra.RoleID)
				rs = append(rs, enrolledRole{r.ID, r.Name, r.Shortname, r.SortOrder})
			}
			eu.Roles = &rs
		}
		if want("enrolledcourses") {
			cs := make([]enrolledIn, 0)
			seen := map[int64]bool{}
			for _, ue := range d.userUEs(uid) {
				co := d.Courses[d.Instances[ue.EnrolID].CourseID]
				if co.ID != SiteCourseID && !seen[co.ID] {
					seen[co.ID] = true
					cs = append(cs, enrolledIn{co.ID, co.Fullname, co.Shortname})
				}
			}
			slices.SortFunc(cs, func(x, y enrolledIn) int { return cmpID(x.ID, y.ID) })
			eu.EnrolledCourses = &cs
		}
		out = append(out, eu)
	}
	return out, nil
}

// Fixture functions of the enrolctl_testing service.

func createUsers(c *ctx, a args) (any, *wsError) {
	d := c.d()
	if err := c.require("moodle/user:create"); err != nil {
		return nil, err
	}
	type created struct {
		ID       int64  `json:"id"`
		Username string `json:"username"`
	}
	out := make([]created, 0)
	for _, it := range a.list("users") {
		username := it.str("username")
		if _, ok := d.userByUsername(username); ok {
			return nil, invalidParam("Username already exists: " + username)
		}
		auth := it.str("auth")
		if auth == "mnet" || auth == "webservice" || !slices.Contains([]string{"manual", "nologin", "email", "ldap", "cas", "shibboleth", "oauth2", "db"}, auth) {
			return nil, invalidParam("Invalid authentication type: " + auth)
		}
		if it.str("password") == "" && !it.bool("createpassword") {
			return nil, invalidParam("Invalid password: you must provide a password, or set createpassword.")
		}
		email := it.str("email")
		if addr, err := mail.ParseAddress(email); err != nil || addr.Address != email {
			return nil, invalidParam("Email address is invalid: " + email)
		}
		for _, u := range d.Users {
			if !u.Deleted && strings.EqualFold(u.Email, email) {
				return nil, invalidParam("Email address already exists: " + email)
			}
		}
		if username != strings.ToLower(username) {
			return nil, moodleErr("usernamelowercase", nil)
		}
		if username == "" || cleanUsername(username) != username {
			return nil, &wsError{Exception: exMoodle, ErrorCode: "invalidusername", Message: "The username can only contain alphanumeric lowercase characters (letters and numbers), underscore (_), hyphen (-), period (.) or at symbol (@)."}
		}
		if !it.bool("createpassword") {
			if msg := passwordPolicy(it.str("password")); msg != "" {
				// user_create_user throws new moodle_exception($errmsg): the errorcode is the
				// message itself, which no string file has.
				return nil, &wsError{Exception: exMoodle, ErrorCode: msg, Message: "error/" + msg}
			}
		}
		u := User{ID: d.next("user"), Username: username, Firstname: it.str("firstname"), Lastname: it.str("lastname"),
			Email: email, IDNumber: it.str("idnumber"), Auth: auth}
		d.putUser(u)
		out = append(out, created{u.ID, u.Username})
	}
	return out, nil
}

func createCategories(c *ctx, a args) (any, *wsError) {
	d := c.d()
	if err := c.require("moodle/category:manage"); err != nil {
		return nil, err
	}
	type created struct {
		ID   int64  `json:"id"`
		Name string `json:"name"`
	}
	out := make([]created, 0)
	for _, it := range a.list("categories") {
		parent := it.int("parent")
		if _, ok := d.Categories[parent]; parent != 0 && !ok {
			return nil, c.s.missingByID("course_categories", parent)
		}
		name := strings.TrimSpace(it.str("name"))
		if name == "" {
			return nil, &wsError{Exception: exMoodle, ErrorCode: "categorynamerequired", Message: "The category name is required"}
		}
		idnumber := it.str("idnumber")
		if idnumber != "" {
			for _, cat := range d.Categories {
				if cat.IDNumber == idnumber {
					return nil, moodleErr("categoryidnumbertaken", nil)
				}
			}
		}
		cat := Category{ID: d.next("course_categories"), Parent: parent, Name: name, IDNumber: idnumber}
		d.putCategory(cat)
		out = append(out, created{cat.ID, name})
	}
	return out, nil
}

func createCourses(c *ctx, a args) (any, *wsError) {
	d := c.d()
	type created struct {
		ID        int64  `json:"id"`
		Shortname string `json:"shortname"`
	}
	out := make([]created, 0)
	for _, it := range a.list("courses") {
		cat := it.int("categoryid")
		if _, ok := d.Categories[cat]; !ok {
			return nil, c.s.missingByID("course_categories", cat)
		}
		if err := c.require("moodle/course:create"); err != nil {
			return nil, err
		}
		shortname := it.str("shortname")
		if _, ok := d.courseByShortname(shortname); ok {
			return nil, moodleErr("shortnametaken", shortname)
		}
		idnumber := it.str("idnumber")
		if idnumber != "" {
			for _, co := range d.Courses {
				if co.IDNumber == idnumber {
					return nil, moodleErr("courseidnumbertaken", idnumber)
				}
			}
		}
		visible := true
		if it.has("visible") {
			visible = it.int("visible") != 0
		}
		co := Course{ID: d.next("course"), Shortname: shortname, Fullname: it.str("fullname"), IDNumber: idnumber, Category: cat, Visible: visible}
		d.putCourse(co)
		c.t.addDefaultInstances(co.ID)
		out = append(out, created{co.ID, shortname})
	}
	return out, nil
}

// passwordPolicy is check_password_policy() with Moodle's default policy: at least 8
// characters, a digit, a lower and an upper case letter and a special character.
func passwordPolicy(pw string) string {
	var digits, lower, upper, other int
	for _, r := range pw {
		switch {
		case unicode.IsDigit(r):
			digits++
		case unicode.IsLower(r):
			lower++
		case unicode.IsUpper(r):
			upper++
		default:
			other++
		}
	}
	var msg strings.Builder
	if utf8.RuneCountInString(pw) < 8 {
		msg.WriteString("<div>Passwords must be at least 8 characters long.</div>")
	}
	if digits < 1 {
		msg.WriteString("<div>Passwords must have at least 1 digit(s).</div>")
	}
	if lower < 1 {
		msg.WriteString("<div>Passwords must have at least 1 lower case letter(s).</div>")
	}
	if upper < 1 {
		msg.WriteString("<div>Passwords must have at least 1 upper case letter(s).</div>")
	}
	if other < 1 {
		msg.WriteString("<div>Passwords must have at least 1 special character(s) such as as *, -, or #.</div>")
	}
	return msg.String()
}

// addDefaultInstances is enrol_course_updated() for a new course: manual, guest and
// self (defaultenrol=1) get their default instance, in the enabled-plugins order.
func (t *tx) addDefaultInstances(courseID int64) {
	for _, p := range t.d.Config.EnabledPlugins {
		switch p {
		case "manual":
			t.addInstance(Instance{Enrol: "manual", CourseID: courseID, RoleID: 5, CustomInt1: 0})
		case "guest":
			t.addInstance(Instance{Enrol: "guest", CourseID: courseID, Status: InstanceDisabled})
		case "self":
			t.addInstance(Instance{Enrol: "self", CourseID: courseID, Status: InstanceDisabled, RoleID: 5, CustomInt6: 1})
		}
	}
}

func createCohorts(c *ctx, a args) (any, *wsError) {
	d := c.d()
	out := make([]cohortInfo, 0)
	for _, it := range a.list("cohorts") {
		ct := it.obj("categorytype")
		catID := int64(0)
		switch ct.str("type") {
		case "system":
		case "id", "idnumber":
			found := false
			for _, cat := range d.Categories {
				if (ct.str("type") == "id" && itoa(cat.ID) == ct.str("value")) || (ct.str("type") == "idnumber" && cat.IDNumber == ct.str("value")) {
					catID, found = cat.ID, true
				}
			}
			if !found {
				return nil, c.s.missingRecord("course_categories", "")
			}
		default:
			return nil, invalidParam("category type must be id, idnumber or system")
		}
		if err := c.require("moodle/cohort:manage"); err != nil {
			return nil, err
		}
		idnumber := it.str("idnumber")
		if idnumber != "" {
			if _, ok := d.cohortByIDNumber(idnumber); ok {
				return nil, &wsError{Exception: exMoodle, ErrorCode: "duplicateidnumber", Message: otherMessages["duplicateidnumber"]}
			}
		}
		visible := true
		if it.has("visible") {
			visible = it.bool("visible")
		}
		co := Cohort{ID: d.next("cohort"), IDNumber: idnumber, Name: it.str("name"), Description: it.str("description"), Visible: visible, CategoryID: catID}
		d.putCohort(co)
		info := toCohortInfo(co)
		out = append(out, info)
	}
	type createdCohort struct {
		ID                int64  `json:"id"`
		Name              string `json:"name"`
		IDNumber          string `json:"idnumber"`
		Description       string `json:"description"`
		DescriptionFormat int    `json:"descriptionformat"`
		Visible           bool   `json:"visible"`
		Theme             string `json:"theme"` // cohort_add_cohort set it on the caller's object
	}
	res := make([]createdCohort, 0, len(out))
	for _, i := range out {
		res = append(res, createdCohort{i.ID, i.Name, i.IDNumber, i.Description, i.DescriptionFormat, i.Visible, i.Theme})
	}
	return res, nil
}

func addCohortMembers(c *ctx, a args) (any, *wsError) {
	d := c.d()
	type warning struct {
		WarningCode string `json:"warningcode"`
		Message     string `json:"message"`
	}
	warnings := make([]warning, 0)
	for _, it := range a.list("members") {
		ct, ut := it.obj("cohorttype"), it.obj("usertype")
		if ct.str("type") != "id" && ct.str("type") != "idnumber" {
			warnings = append(warnings, warning{"1", "invalid parameter: cohorttype"})
			continue
		}
		if ut.str("type") != "id" && ut.str("type") != "username" {
			warnings = append(warnings, warning{"1", "invalid parameter: usertype"})
			continue
		}
		var cohort Cohort
		found := false
		for _, co := range d.Cohorts {
			if (ct.str("type") == "id" && itoa(co.ID) == ct.str("value")) || (ct.str("type") == "idnumber" && co.IDNumber == ct.str("value")) {
				cohort, found = co, true
			}
		}
		if !found {
			warnings = append(warnings, warning{"2", "cohort " + ct.str("type") + "=" + ct.str("value") + " not exists"})
			continue
		}
		var user User
		found = false
		for _, u := range d.Users {
			if !u.Deleted && ((ut.str("type") == "id" && itoa(u.ID) == ut.str("value")) || (ut.str("type") == "username" && u.Username == ut.str("value"))) {
				user, found = u, true
			}
		}
		if !found {
			warnings = append(warnings, warning{"2", "user " + ut.str("type") + "=" + ut.str("value") + " not exists"})
			continue
		}
		if d.cohortMember(cohort.ID, user.ID) {
			warnings = append(warnings, warning{"3", "record already exists: cohort(" + ct.str("type") + "=" + ct.str("value") + " " +
				ut.str("type") + "=" + ut.str("value") + ")"})
			continue
		}
		if err := c.require("moodle/cohort:assign"); err != nil {
			return nil, err
		}
		c.t.addCohortMember(cohort.ID, user.ID)
	}
	return struct {
		Warnings []warning `json:"warnings"`
	}{warnings}, nil
}

func (t *tx) addCohortMember(cohortID, userID int64) {
	id := t.d.next("cohort_members")
	t.d.putCohortMember(CohortMember{ID: id, CohortID: cohortID, UserID: userID, TimeAdded: t.now})
	t.cohortMembershipChanged(cohortID)
}

func deleteCohortMembers(c *ctx, a args) (any, *wsError) {
	d := c.d()
	for _, it := range a.list("members") {
		cohortID, userID := it.int("cohortid"), it.int("userid")
		if _, ok := d.Cohorts[cohortID]; !ok {
			return nil, c.s.missingByID("cohort", cohortID)
		}
		if u, ok := d.Users[userID]; !ok || u.Deleted {
			return nil, c.s.missingByID("user", userID)
		}
		if err := c.require("moodle/cohort:assign"); err != nil {
			return nil, err
		}
		if id, ok := d.ix.cohortMember[[2]int64{cohortID, userID}]; ok {
			d.delCohortMember(d.CohortMembers[id])
		}
		c.t.cohortMembershipChanged(cohortID)
	}
	return nil, nil
}

// manualContext is context_course::instance(IGNORE_MISSING) + validate_context().
func (c *ctx) manualContext(courseID int64) *wsError {
	if _, ok := c.d().Courses[courseID]; !ok {
		return invalidParam("Context does not exist")
	}
	return nil
}

func manualEnrolUsers(c *ctx, a args) (any, *wsError) {
	d := c.d()
	for _, it := range a.list("enrolments") {
		courseID, userID, roleID := it.int("courseid"), it.int("userid"), it.int("roleid")
		if err := c.manualContext(courseID); err != nil {
			return nil, err
		}
		if err := c.require("enrol/manual:enrol"); err != nil {
			return nil, err
		}
		u, ok := d.Users[userID]
		if !ok {
			return nil, c.s.missingByID("user", userID)
		}
		if u.Deleted {
			return nil, moodleErr("userdeleted", nil)
		}
		if !c.assignable(roleID) {
			return nil, moodleErr("wsusercannotassign", map[string]any{"roleid": roleID, "userid": userID, "courseid": courseID})
		}
		var inst *Instance
		if d.pluginEnabled("manual") {
			for _, e := range d.courseInstances(courseID) {
				if e.Enrol == "manual" && e.Status == InstanceEnabled {
					inst = &e
					break
				}
			}
		}
		if inst == nil {
			return nil, moodleErr("wsnoinstance", map[string]any{"courseid": courseID})
		}
		status := UserActive
		if it.int("suspend") != 0 {
			status = UserSuspended
		}
		c.t.enrolUser(*inst, userID, roleID, it.int("timestart"), it.int("timeend"), status)
	}
	return nil, nil
}

func manualUnenrolUsers(c *ctx, a args) (any, *wsError) {
	d := c.d()
	for _, it := range a.list("enrolments") {
		courseID, userID := it.int("courseid"), it.int("userid")
		if err := c.manualContext(courseID); err != nil {
			return nil, err
		}
		if err := c.require("enrol/manual:unenrol"); err != nil {
			return nil, err
		}
		var inst *Instance
		for _, e := range d.courseInstances(courseID) {
			if e.Enrol == "manual" {
				inst = &e
				break
			}
		}
		if inst == nil {
			return nil, moodleErr("wsnoinstance", map[string]any{"courseid": courseID})
		}
		u, ok := d.Users[userID]
		if !ok {
			return nil, c.s.missingByID("user", userID)
		}
		if u.Deleted {
			return nil, moodleErr("userdeleted", nil)
		}
		c.t.unenrolUser(*inst, userID)
	}
	return nil, nil
}

// metaAddInstances is enrol_meta_add_instances: no transaction, every failure is
// invalidparameter, duplicates are status false, courseid echoed as sent.
func metaAddInstances(c *ctx, a args) (any, *wsError) {
	d := c.d()
	items := a.list("instances")
	if len(items) == 0 {
		return nil, invalidParam("No instances specified")
	}
	type res struct {
		MetaCourseID int64  `json:"metacourseid"`
		CourseID     string `json:"courseid"`
		Status       bool   `json:"status"`
	}
	out := make([]res, 0, len(items))
	for _, it := range items {
		meta := it.int("metacourseid")
		if _, ok := d.Courses[meta]; !ok || meta == SiteCourseID {
			return nil, invalidParam(fmt.Sprintf("Meta course ID = %d doesn't exist or you don't have permission to add an enrolment instance.", meta))
		}
		linkedRaw := it.str("courseid")
		n, perr := cleanValue(pInt, linkedRaw)
		linked, _ := n.(int64)
		if _, ok := d.Courses[linked]; perr != nil || !ok || linked == SiteCourseID || linked == meta {
			return nil, invalidParam(fmt.Sprintf("Course ID = %s doesn't exist or you don't have permission to link it to a meta course.", linkedRaw))
		}
		dup := false
		for _, e := range d.courseInstances(meta) {
			if e.Enrol == "meta" && e.CustomInt1 == linked {
				dup = true
			}
		}
		if !dup {
			groupID := int64(0)
			if it.bool("creategroup") {
				g := Group{ID: d.next("groups"), CourseID: meta, Name: d.Courses[linked].Fullname + " course"}
				for i := 2; ; i++ {
					if _, taken := d.groupByName(meta, g.Name); !taken {
						break
					}
					g.Name = fmt.Sprintf("%s course (%d)", d.Courses[linked].Fullname, i)
				}
				d.putGroup(g)
				groupID = g.ID
			}
			c.t.addInstance(Instance{Enrol: "meta", CourseID: meta, CustomInt1: linked, CustomInt2: groupID})
			c.t.settle()
		}
		out = append(out, res{meta, linkedRaw, !dup})
	}
	return out, nil
}
