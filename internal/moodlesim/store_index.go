package moodlesim

import (
	"cmp"
	"slices"
)

// The indexes of the tables: kept by the writes of store.go, read by everything.

// idsBy maps a key to the ids of its rows, kept sorted: small per key (a course's
// instances, an instance's enrolments), so inserting in order is cheap and reads need
// no sort. idSets, the usual one, is keyed by an id.
type idsBy[K comparable] map[K][]int64

type idSets = idsBy[int64]

func (m idsBy[K]) add(k K, id int64) {
	ids := m[k]
	if i, found := slices.BinarySearch(ids, id); !found {
		m[k] = slices.Insert(ids, i, id)
	}
}

func (m idsBy[K]) remove(k K, id int64) {
	ids := m[k]
	if i, found := slices.BinarySearch(ids, id); found {
		ids = slices.Delete(ids, i, i+1)
		if len(ids) == 0 {
			delete(m, k)
		} else {
			m[k] = ids
		}
	}
}

// sorted returns a copy of the ids under k, safe to hold while the table changes.
func (m idsBy[K]) sorted(k K) []int64 { return slices.Clone(m[k]) }

// indexes are the unique and secondary keys of the tables.
type indexes struct {
	userByName       map[string]int64 // non-deleted users
	userByIDNumber   map[string]int64 // non-deleted users, the lowest id per idnumber
	courseByShort    map[string]int64
	courseIDs        []int64          // every course's id, sorted: the catalogue's order
	cohortByIDNumber map[string]int64 // non-empty idnumbers
	instByCourse     idSets
	instByCustomInt1 idSets // cohort and meta instances by cohort / linked course
	ue               map[[2]int64]int64
	ueByInst         idSets
	ueByUser         idSets
	raByCourse       idSets
	raByCourseUser   idsBy[courseUser]
	groupsByCourse   idSets
	groupByName      map[groupKey]int64
	member           map[[2]int64]int64
	membersByGroup   idSets
	cohortMember     map[[2]int64]int64
	cohortMembers    idSets
	catChildren      idSets
}

func newIndexes() indexes {
	return indexes{
		userByName: map[string]int64{}, userByIDNumber: map[string]int64{}, courseByShort: map[string]int64{}, cohortByIDNumber: map[string]int64{},
		instByCourse: idSets{}, instByCustomInt1: idSets{}, ue: map[[2]int64]int64{}, ueByInst: idSets{}, ueByUser: idSets{},
		raByCourse: idSets{}, raByCourseUser: idsBy[courseUser]{},
		groupsByCourse: idSets{}, groupByName: map[groupKey]int64{}, member: map[[2]int64]int64{}, membersByGroup: idSets{},
		cohortMember: map[[2]int64]int64{}, cohortMembers: idSets{}, catChildren: idSets{},
	}
}

func (d *db) indexUser(u User, add bool) {
	d.dirty(0) // names and usernames appear in every course the user is in
	if u.Deleted {
		return
	}
	if add {
		d.ix.userByName[u.Username] = u.ID
		if cur, ok := d.ix.userByIDNumber[u.IDNumber]; u.IDNumber != "" && (!ok || u.ID < cur) {
			d.ix.userByIDNumber[u.IDNumber] = u.ID
		}
		return
	}
	if d.ix.userByName[u.Username] == u.ID {
		delete(d.ix.userByName, u.Username)
	}
	if d.ix.userByIDNumber[u.IDNumber] == u.ID {
		delete(d.ix.userByIDNumber, u.IDNumber)
		// Another user may share the idnumber (Moodle does not forbid it): the next by
		// id takes over. Rare, so a scan.
		for _, o := range d.Users {
			if o.ID != u.ID && o.IDNumber == u.IDNumber && !o.Deleted {
				if cur, ok := d.ix.userByIDNumber[o.IDNumber]; !ok || o.ID < cur {
					d.ix.userByIDNumber[o.IDNumber] = o.ID
				}
			}
		}
	}
}

func (d *db) indexCourse(c Course, add bool) {
	d.dirty(0) // shortnames appear in the meta instances linking to the course
	i, found := slices.BinarySearch(d.ix.courseIDs, c.ID)
	if add {
		d.ix.courseByShort[c.Shortname] = c.ID
		if !found {
			d.ix.courseIDs = slices.Insert(d.ix.courseIDs, i, c.ID)
		}
		return
	}
	if d.ix.courseByShort[c.Shortname] == c.ID {
		delete(d.ix.courseByShort, c.Shortname)
	}
	if found {
		d.ix.courseIDs = slices.Delete(d.ix.courseIDs, i, i+1)
	}
}

func (d *db) indexCategory(c Category, add bool) {
	if add {
		d.ix.catChildren.add(c.Parent, c.ID)
	} else {
		d.ix.catChildren.remove(c.Parent, c.ID)
	}
}

func (d *db) indexCohort(c Cohort, add bool) {
	d.dirty(0) // idnumbers appear in the cohort instances
	if c.IDNumber == "" {
		return
	}
	if add {
		d.ix.cohortByIDNumber[c.IDNumber] = c.ID
	} else if d.ix.cohortByIDNumber[c.IDNumber] == c.ID {
		delete(d.ix.cohortByIDNumber, c.IDNumber)
	}
}

func (d *db) indexCohortMember(m CohortMember, add bool) {
	k := [2]int64{m.CohortID, m.UserID}
	if add {
		d.ix.cohortMember[k] = m.ID
		d.ix.cohortMembers.add(m.CohortID, m.ID)
	} else {
		delete(d.ix.cohortMember, k)
		d.ix.cohortMembers.remove(m.CohortID, m.ID)
	}
}

func (d *db) indexInstance(e Instance, add bool) {
	d.dirty(e.CourseID)
	linked := e.Enrol == "cohort" || e.Enrol == "meta"
	if add {
		d.ix.instByCourse.add(e.CourseID, e.ID)
		if linked {
			d.ix.instByCustomInt1.add(e.CustomInt1, e.ID)
		}
	} else {
		d.ix.instByCourse.remove(e.CourseID, e.ID)
		if linked {
			d.ix.instByCustomInt1.remove(e.CustomInt1, e.ID)
		}
	}
}

func (d *db) indexUE(ue UserEnrolment, add bool) {
	if e, ok := d.Instances[ue.EnrolID]; ok {
		d.dirty(e.CourseID)
	} else {
		d.dirty(0)
	}
	k := [2]int64{ue.EnrolID, ue.UserID}
	if add {
		d.ix.ue[k] = ue.ID
		d.ix.ueByInst.add(ue.EnrolID, ue.ID)
		d.ix.ueByUser.add(ue.UserID, ue.ID)
	} else {
		delete(d.ix.ue, k)
		d.ix.ueByInst.remove(ue.EnrolID, ue.ID)
		d.ix.ueByUser.remove(ue.UserID, ue.ID)
	}
}

func (d *db) indexRA(ra RoleAssignment, add bool) {
	d.dirty(ra.CourseID)
	cu := courseUser{ra.CourseID, ra.UserID}
	if add {
		d.ix.raByCourse.add(ra.CourseID, ra.ID)
		d.ix.raByCourseUser.add(cu, ra.ID)
		return
	}
	d.ix.raByCourse.remove(ra.CourseID, ra.ID)
	d.ix.raByCourseUser.remove(cu, ra.ID)
}

func (d *db) indexGroup(g Group, add bool) {
	d.dirty(g.CourseID)
	k := groupKey{g.CourseID, g.Name}
	if add {
		d.ix.groupsByCourse.add(g.CourseID, g.ID)
		d.ix.groupByName[k] = g.ID
	} else {
		d.ix.groupsByCourse.remove(g.CourseID, g.ID)
		if d.ix.groupByName[k] == g.ID {
			delete(d.ix.groupByName, k)
		}
	}
}

func (d *db) indexMember(m GroupMember, add bool) {
	if g, ok := d.Groups[m.GroupID]; ok {
		d.dirty(g.CourseID)
	} else {
		d.dirty(0)
	}
	k := [2]int64{m.GroupID, m.UserID}
	if add {
		d.ix.member[k] = m.ID
		d.ix.membersByGroup.add(m.GroupID, m.ID)
	} else {
		delete(d.ix.member, k)
		d.ix.membersByGroup.remove(m.GroupID, m.ID)
	}
}

// Writes.

// rebuildIndex builds every index from the tables (after Load).
func (d *db) rebuildIndex() {
	d.dirty(0)
	d.ix = newIndexes()
	indexAll(d.Users, d.indexUser)
	// By id, so each course's id appends to the sorted courseIDs rather than being
	// inserted in the middle: a map-order walk made loading a large site quadratic.
	for _, id := range keys(d.Courses) {
		d.indexCourse(d.Courses[id], true)
	}
	indexAll(d.Categories, d.indexCategory)
	indexAll(d.Cohorts, d.indexCohort)
	indexAll(d.CohortMembers, d.indexCohortMember)
	indexAll(d.Instances, d.indexInstance)
	indexAll(d.UEs, d.indexUE)
	indexAll(d.RAs, d.indexRA)
	indexAll(d.Groups, d.indexGroup)
	indexAll(d.Members, d.indexMember)
}

func indexAll[T any](rows map[int64]T, index func(T, bool)) {
	for _, v := range rows {
		index(v, true)
	}
}

// Reads through the indexes.

// rowsOf returns the rows of table with these ids, in their order.
func rowsOf[T any](table map[int64]T, ids []int64) []T {
	out := make([]T, 0, len(ids))
	for _, id := range ids {
		out = append(out, table[id])
	}
	return out
}

func (d *db) userByUsername(username string) (User, bool) {
	id, ok := d.ix.userByName[username]
	return d.Users[id], ok
}

func (d *db) courseByShortname(shortname string) (Course, bool) {
	id, ok := d.ix.courseByShort[shortname]
	return d.Courses[id], ok
}

func (d *db) cohortByIDNumber(idnumber string) (Cohort, bool) {
	id, ok := d.ix.cohortByIDNumber[idnumber]
	return d.Cohorts[id], ok
}

// courseInstances returns the course's instances ordered by sortorder, id
// (enrol_get_instances).
func (d *db) courseInstances(courseID int64) []Instance {
	out := rowsOf(d.Instances, d.ix.instByCourse[courseID])
	slices.SortFunc(out, func(a, b Instance) int { return cmp.Or(a.SortOrder-b.SortOrder, cmpID(a.ID, b.ID)) })
	return out
}

// linkedInstances returns the instances of plugin ("cohort" or "meta") whose
// customint1 is key (the cohort, the linked course), by id.
func (d *db) linkedInstances(plugin string, key int64) []Instance {
	var out []Instance
	for _, id := range d.ix.instByCustomInt1[key] {
		if e := d.Instances[id]; e.Enrol == plugin {
			out = append(out, e)
		}
	}
	return out
}

func (d *db) ue(enrolID, userID int64) (UserEnrolment, bool) {
	id, ok := d.ix.ue[[2]int64{enrolID, userID}]
	if !ok {
		return UserEnrolment{}, false
	}
	return d.UEs[id], true
}

// instanceUEs returns the rows of one instance ordered by user id.
func (d *db) instanceUEs(enrolID int64) []UserEnrolment {
	out := rowsOf(d.UEs, d.ix.ueByInst[enrolID])
	slices.SortFunc(out, func(a, b UserEnrolment) int { return cmpID(a.UserID, b.UserID) })
	return out
}

// userUEs returns a user's rows in every course, by id.
func (d *db) userUEs(userID int64) []UserEnrolment {
	return rowsOf(d.UEs, d.ix.ueByUser[userID])
}

// isEnrolled is is_enrolled() without onlyactive: any row in any instance of the course.
func (d *db) isEnrolled(courseID, userID int64) bool {
	for _, id := range d.ix.instByCourse[courseID] {
		if _, ok := d.ix.ue[[2]int64{id, userID}]; ok {
			return true
		}
	}
	return false
}

// hasRA reports whether the user holds this very assignment (role, component, item) in
// the course: found among the user's few there rather than in an index of whole keys,
// which held a sixth of the sandbox demo site's memory.
func (d *db) hasRA(ra RoleAssignment) bool {
	for _, id := range d.ix.raByCourseUser[courseUser{ra.CourseID, ra.UserID}] {
		if o := d.RAs[id]; o.RoleID == ra.RoleID && o.Component == ra.Component && o.ItemID == ra.ItemID {
			return true
		}
	}
	return false
}

// courseRAs returns the role assignments of a course context, by id.
func (d *db) courseRAs(courseID int64) []RoleAssignment {
	return rowsOf(d.RAs, d.ix.raByCourse[courseID])
}

// userCourseRAs returns a user's role assignments in a course context, by id.
func (d *db) userCourseRAs(courseID, userID int64) []RoleAssignment {
	return rowsOf(d.RAs, d.ix.raByCourseUser[courseUser{courseID, userID}])
}

// courseGroups returns a course's groups by id.
func (d *db) courseGroups(courseID int64) []Group {
	return rowsOf(d.Groups, d.ix.groupsByCourse[courseID])
}

func (d *db) groupByName(courseID int64, name string) (Group, bool) {
	id, ok := d.ix.groupByName[groupKey{courseID, name}]
	return d.Groups[id], ok
}

func (d *db) groupMember(groupID, userID int64) (GroupMember, bool) {
	id, ok := d.ix.member[[2]int64{groupID, userID}]
	return d.Members[id], ok
}

// groupMembers returns a group's memberships by id.
func (d *db) groupMembers(groupID int64) []GroupMember {
	return rowsOf(d.Members, d.ix.membersByGroup[groupID])
}

// courseMembers returns the memberships of every group of a course, by group then id.
func (d *db) courseMembers(courseID int64) []GroupMember {
	var out []GroupMember
	for _, gid := range d.ix.groupsByCourse[courseID] {
		out = append(out, d.groupMembers(gid)...)
	}
	return out
}

func (d *db) cohortMember(cohortID, userID int64) bool {
	_, ok := d.ix.cohortMember[[2]int64{cohortID, userID}]
	return ok
}

// cohortMemberIDs returns the cohort's non-deleted members in id order.
func (d *db) cohortMemberIDs(cohortID int64) []int64 {
	rows := d.ix.cohortMembers[cohortID]
	out := make([]int64, 0, len(rows))
	for _, id := range rows {
		if uid := d.CohortMembers[id].UserID; !d.Users[uid].Deleted {
			out = append(out, uid)
		}
	}
	slices.Sort(out)
	return out
}

// userCourseMembers returns a user's memberships in the groups of a course.
func (d *db) userCourseMembers(courseID, userID int64) []GroupMember {
	var out []GroupMember
	for _, gid := range d.ix.groupsByCourse[courseID] {
		if m, ok := d.groupMember(gid, userID); ok {
			out = append(out, m)
		}
	}
	return out
}
