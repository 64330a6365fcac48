package moodlesim

import (
	"cmp"
	"slices"
	"strings"
)

// core_enrol: core_enrol_get_enrolled_users (participants).

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
		num("lastcourseaccess", d.lastAccess(courseID, uid), &eu.LastCourseAccess)
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
			slices.SortFunc(ras, func(x, y RoleAssignment) int { return cmp.Or(cmpID(x.RoleID, y.RoleID), cmpID(x.ID, y.ID)) })
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
