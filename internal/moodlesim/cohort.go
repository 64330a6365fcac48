package moodlesim

import (
	"cmp"
	"slices"
	"strings"
)

// core_cohort: cohort reads and the fixture functions that create cohorts and members.

// cohortInfo is the cohort structure of the cohort functions. Theme is always "":
// cohort_add_cohort stores ” when $CFG->allowcohortthemes is off (the simulator never
// allows cohort themes), and the functions null only a non-empty theme.
type cohortInfo struct {
	createdCohort
	CustomFields []string `json:"customfields"`
}

// createdCohort is what core_cohort_create_cohorts answers for a cohort: the cohort
// structure without custom fields (theme: cohort_add_cohort set it on the caller's
// object).
type createdCohort struct {
	ID                int64  `json:"id"`
	Name              string `json:"name"`
	IDNumber          string `json:"idnumber"`
	Description       string `json:"description"`
	DescriptionFormat int    `json:"descriptionformat"`
	Visible           bool   `json:"visible"`
	Theme             string `json:"theme"`
}

func toCohortInfo(co Cohort) cohortInfo {
	return cohortInfo{createdCohort{co.ID, co.Name, co.IDNumber, co.Description, 1, co.Visible, ""}, []string{}}
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
	slices.SortFunc(list, func(x, y Cohort) int { return cmp.Or(strings.Compare(x.Name, y.Name), cmpID(x.ID, y.ID)) })
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
			return cmp.Or(strings.Compare(ux.Lastname, uy.Lastname), strings.Compare(ux.Firstname, uy.Firstname))
		})
		out = append(out, members{id, append([]int64{}, ids...)})
	}
	return out, nil
}

func createCohorts(c *ctx, a args) (any, *wsError) {
	d := c.d()
	out := make([]createdCohort, 0)
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
		out = append(out, toCohortInfo(co).createdCohort)
	}
	return out, nil
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
