package moodlesim

import (
	"maps"
	"slices"
	"time"
)

// The deadlock fault imitates PostgreSQL under concurrent enrolment writes: every
// enrol_user, update_user_enrol, unenrol_user and role change calls mark_user_dirty(),
// which updates the user's mdl_cache_flags row (set_cache_flag) inside the open
// transaction. Two transactions that touch the same users in different orders wait
// on each other and PostgreSQL aborts one with 40P01 "deadlock detected", which Moodle
// raises as dml_write_exception (errorcode dmlwriteexception).
//
// With SetDeadlockFaults(window), a write call holds its transaction open for window
// (after validation, before it writes), and a write whose course transaction touches
// a user that another open call holds is the victim: local_enrolctl_write reports
// that course as {status:"error", errorcode:"dmlwriteexception"} (after the plugin's
// retries, which met the same lock), other write functions fail whole. Calls that do
// not overlap in time (serialised writes) never deadlock.

// SetDeadlockFaults turns the deadlock fault on (window > 0) or off (0).
func (s *Sim) SetDeadlockFaults(window time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.deadlockWindow = window
	if s.userLocks == nil {
		s.userLocks = map[int64]uint64{}
	}
}

// Deadlocks is how many course transactions (or whole calls) the deadlock fault has
// aborted.
func (s *Sim) Deadlocks() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.deadlocks
}

func deadlockErr() *wsError {
	return &wsError{Exception: exWrite, ErrorCode: "dmlwriteexception", Message: "Error writing to database",
		DebugInfo: "ERROR:  deadlock detected\nDETAIL:  Process 4242 waits for ShareLock on transaction 8119; blocked by process 4243."}
}

// lockGroup is the users one transaction touches: a course of local_enrolctl_write
// (key: course id) or a whole v1 call (key 0), with the item that touches them first.
type lockGroup struct {
	key   int64
	first map[int64]int // user -> index of the first item (in the course) touching them
	users []int64
}

// holdUserLocks claims the users of every group for call id, unless another call
// holds one of them: that group is the deadlock victim. It returns the victims and
// the users claimed.
func (s *Sim) holdUserLocks(id uint64, groups []lockGroup) (victims map[int64]int, claimed []int64) {
	victims = map[int64]int{}
	for _, g := range groups {
		at, lost := -1, false
		for _, u := range g.users {
			if holder, ok := s.userLocks[u]; ok && holder != id {
				if !lost || g.first[u] < at {
					at = g.first[u]
				}
				lost = true
			}
		}
		if lost {
			victims[g.key] = at
			s.deadlocks++
			continue
		}
		for _, u := range g.users {
			if _, ok := s.userLocks[u]; !ok {
				s.userLocks[u] = id
				claimed = append(claimed, u)
			}
		}
	}
	return victims, claimed
}

// lockGroups works out which users a write call touches.
func (s *Sim) lockGroups(fnName string, a args) []lockGroup {
	d := s.d
	if fnName != "local_enrolctl_write" {
		g := lockGroup{first: map[int64]int{}}
		collectUserIDs(map[string]any(a), func(u int64) { g.add(u, 0) })
		return []lockGroup{g}
	}
	_, batches, err := parseWrite(a.str("operation"), a.str("items"))
	if err != nil {
		return nil
	}
	var out []lockGroup
	for _, b := range batches {
		g := lockGroup{key: b.courseID, first: map[int64]int{}}
		for i, it := range b.items {
			if it.has("userid") {
				g.add(it.int("userid"), i)
			}
			// Instance operations touch every participant of the instance; a new cohort
			// or meta instance enrols the cohort's members or the linked course's users.
			var instanceID int64
			switch {
			case it.has("id"):
				instanceID = it.int("id")
			case it.str("enrol") == "cohort":
				for _, u := range d.cohortMemberIDs(it.int("cohortid")) {
					g.add(u, i)
				}
			case it.str("enrol") == "meta":
				for _, e := range d.courseInstances(it.int("linkedcourseid")) {
					for _, ue := range d.instanceUEs(e.ID) {
						g.add(ue.UserID, i)
					}
				}
			}
			if instanceID != 0 {
				for _, ue := range d.instanceUEs(instanceID) {
					g.add(ue.UserID, i)
				}
			}
		}
		out = append(out, g)
	}
	return out
}

func (g *lockGroup) add(u int64, i int) {
	if _, ok := g.first[u]; !ok {
		g.first[u] = i
		g.users = append(g.users, u)
	}
}

// collectUserIDs finds every "userid" value in v1 arguments.
func collectUserIDs(v any, f func(int64)) {
	switch x := v.(type) {
	case map[string]any:
		for _, k := range slices.Sorted(maps.Keys(x)) {
			if n, ok := x[k].(int64); ok && k == "userid" {
				f(n)
			} else {
				collectUserIDs(x[k], f)
			}
		}
	case []any:
		for _, e := range x {
			collectUserIDs(e, f)
		}
	}
}
