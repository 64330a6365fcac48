package moodlesim

import (
	"maps"
	"sync"
)

// db is the whole site: every table keyed by id, with the secondary indexes a
// database would have, so no call scans a whole table. Tables are read directly;
// every write goes through the put/del methods below, which keep the indexes right
// and, inside a transaction (begin), journal how to undo it: a rollback replays the
// journal backwards, so a failed call costs what it wrote, not the size of the site.
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
	// LastAccess is user_lastaccess: course -> user -> timeaccess, by course as the
	// plugin reads it (one lookup per course, not per user of a large table).
	LastAccess map[int64]map[int64]int64
	// Leases are local_enrolctl's apply leases by name.
	Leases map[string]Lease

	ix indexes
	// stateCache holds get_course_state's encoded answer per course. The index
	// functions drop a course's entry on every write that touches it, and every entry
	// on writes to users, courses and cohorts, whose names the answers carry. Reads
	// fill it under the shared lock, hence its own mutex.
	stateCache map[int64][]byte
	// quotedCache holds the same answers escaped as inside a JSON string
	// (get_course_state_json), dropped with stateCache.
	quotedCache map[int64][]byte
	cacheMu     sync.Mutex
	// journal undoes the writes of the open transaction, in order; nil outside one.
	journal []func()
	inTx    bool
}

type groupKey struct {
	course int64
	name   string
}

func newDB() *db {
	return &db{
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
		LastAccess:    map[int64]map[int64]int64{},
		Leases:        map[string]Lease{},
		ix:            newIndexes(),
		stateCache:    map[int64][]byte{},
		quotedCache:   map[int64][]byte{},
	}
}

// makeRoom sizes the tables and indexes that grow with users, enrolments (with their
// role assignments) and cohort members for that many more rows, so that a site built
// row by row (the demo site) does not rehash them at every doubling: that was a
// quarter of the CPU of a first sandbox plan.
func (d *db) makeRoom(users, enrolments, cohortMembers int) {
	d.Users, d.ix.userByName, d.ix.userByIDNumber = withRoom(d.Users, users), withRoom(d.ix.userByName, users), withRoom(d.ix.userByIDNumber, users)
	d.ix.ueByUser = withRoom(d.ix.ueByUser, users)
	d.UEs, d.ix.ue, d.RAs, d.ix.raByCourseUser = withRoom(d.UEs, enrolments), withRoom(d.ix.ue, enrolments), withRoom(d.RAs, enrolments), withRoom(d.ix.raByCourseUser, enrolments)
	d.CohortMembers, d.ix.cohortMember = withRoom(d.CohortMembers, cohortMembers), withRoom(d.ix.cohortMember, cohortMembers)
}

func withRoom[K comparable, V any](m map[K]V, n int) map[K]V {
	out := make(map[K]V, len(m)+n)
	maps.Copy(out, m)
	return out
}

// Transactions.

func (d *db) begin() { d.journal, d.inTx = d.journal[:0], true }

func (d *db) commit() { d.journal, d.inTx = d.journal[:0], false }

func (d *db) rollback() {
	for i := len(d.journal) - 1; i >= 0; i-- {
		d.journal[i]()
	}
	d.commit()
}

// record journals undo inside a transaction. The frequent writes (put, next,
// setLastAccess, del) test d.inTx before they make their closure: each is an allocation,
// and most writes (the demo site's, the sandbox's seeding) happen outside one.
func (d *db) record(undo func()) {
	if d.inTx {
		d.journal = append(d.journal, undo)
	}
}

// put writes row id of m, keeping its indexes (index(row, true) adds, false removes).
func put[T any](d *db, m map[int64]T, id int64, v T, index func(T, bool)) {
	old, had := m[id]
	if d.inTx {
		d.record(undoPut(m, id, old, had, index))
	}
	if had {
		index(old, false)
	}
	m[id] = v
	index(v, true)
}

// undoPut restores row id of m to old (or to nothing). A function of its own so that
// only what it captures goes to the heap, not put's copy of every row it replaces.
func undoPut[T any](m map[int64]T, id int64, old T, had bool, index func(T, bool)) func() {
	return func() {
		if cur, ok := m[id]; ok {
			index(cur, false)
		}
		delete(m, id)
		if had {
			m[id] = old
			index(old, true)
		}
	}
}

// del removes row id of m.
func del[T any](d *db, m map[int64]T, id int64, index func(T, bool)) {
	old, had := m[id]
	if !had {
		return
	}
	if d.inTx {
		d.record(undoPut(m, id, old, true, index)) // the row is back, as it was
	}
	index(old, false)
	delete(m, id)
}

// undoKey journals, inside a transaction, putting m[k] back as it is now (or away).
func undoKey[K comparable, V any](d *db, m map[K]V, k K) {
	if old, had := m[k]; d.inTx {
		d.record(func() {
			if had {
				m[k] = old
			} else {
				delete(m, k)
			}
		})
	}
}

func (d *db) next(table string) int64 {
	undoKey(d, d.NextID, table)
	d.NextID[table]++
	return d.NextID[table]
}

// reserve makes sure ids handed out later in table are above id.
func (d *db) reserve(table string, id int64) {
	if d.NextID[table] < id {
		d.NextID[table] = id
	}
}

// Index maintenance, one function per table.

func (d *db) putUser(u User) { put(d, d.Users, u.ID, u, d.indexUser) }

func (d *db) putCourse(c Course) { put(d, d.Courses, c.ID, c, d.indexCourse) }

func (d *db) putCategory(c Category) { put(d, d.Categories, c.ID, c, d.indexCategory) }

func (d *db) putCohort(c Cohort) { put(d, d.Cohorts, c.ID, c, d.indexCohort) }

func (d *db) putCohortMember(m CohortMember) {
	put(d, d.CohortMembers, m.ID, m, d.indexCohortMember)
}

func (d *db) delCohortMember(m CohortMember) { del(d, d.CohortMembers, m.ID, d.indexCohortMember) }

func (d *db) putInstance(e Instance) { put(d, d.Instances, e.ID, e, d.indexInstance) }

func (d *db) delInstance(e Instance) { del(d, d.Instances, e.ID, d.indexInstance) }

func (d *db) putUE(ue UserEnrolment) { put(d, d.UEs, ue.ID, ue, d.indexUE) }

func (d *db) deleteUE(ue UserEnrolment) { del(d, d.UEs, ue.ID, d.indexUE) }

func (d *db) putRA(ra RoleAssignment) { put(d, d.RAs, ra.ID, ra, d.indexRA) }

func (d *db) deleteRA(ra RoleAssignment) { del(d, d.RAs, ra.ID, d.indexRA) }

func (d *db) putGroup(g Group) { put(d, d.Groups, g.ID, g, d.indexGroup) }

func (d *db) putMember(m GroupMember) { put(d, d.Members, m.ID, m, d.indexMember) }

func (d *db) delMember(m GroupMember) { del(d, d.Members, m.ID, d.indexMember) }

func (d *db) addGrade(g GradeDeletion) {
	n := len(d.Grades)
	d.record(func() { d.Grades = d.Grades[:n] })
	d.Grades = append(d.Grades, g)
}

func (d *db) putLease(l Lease) {
	undoKey(d, d.Leases, l.Name)
	d.Leases[l.Name] = l
}

func (d *db) delLease(name string) {
	undoKey(d, d.Leases, name)
	delete(d.Leases, name)
}

// dirty drops the cached state of a course (0: of every course).
func (d *db) dirty(courseID int64) {
	d.cacheMu.Lock()
	if courseID == 0 {
		clear(d.stateCache)
		clear(d.quotedCache)
	} else {
		delete(d.stateCache, courseID)
		delete(d.quotedCache, courseID)
	}
	d.cacheMu.Unlock()
}

func (d *db) setLastAccess(courseID, userID, t int64) {
	if old, had := d.LastAccess[courseID][userID]; d.inTx {
		d.record(func() {
			d.dirty(courseID)
			if had {
				d.LastAccess[courseID][userID] = old
			} else {
				delete(d.LastAccess[courseID], userID)
			}
		})
	}
	d.dirty(courseID)
	if d.LastAccess[courseID] == nil {
		d.LastAccess[courseID] = map[int64]int64{}
	}
	d.LastAccess[courseID][userID] = t
}

// lastAccess is the user's last access to the course, 0 for never.
func (d *db) lastAccess(courseID, userID int64) int64 { return d.LastAccess[courseID][userID] }
