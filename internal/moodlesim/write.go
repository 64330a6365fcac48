package moodlesim

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// local_enrolctl_write (contract v2): one JSON-encoded batch of items of one
// operation, across courses, each course in its own transaction.

const (
	maxWriteItems = 5000
	maxWriteBytes = 8 << 20
)

// writeOp describes one operation: its item fields (courseid is always required) and
// what one item does.
type writeOp struct {
	required []string
	optional []string
	strings  []string // fields that are strings; the others are integers
	// returnsID says the course result lists the items' ids (add_instances,
	// create_groups).
	returnsID bool
	run       func(c *ctx, courseID int64, it args) (int64, *wsError)
}

var writeOps = map[string]writeOp{
	"add_instances": {
		required: []string{"enrol"},
		optional: []string{"name", "status", "roleid", "cohortid", "linkedcourseid", "groupid", "maxenrolled"},
		strings:  []string{"enrol", "name"}, returnsID: true,
		run: func(c *ctx, _ int64, it args) (int64, *wsError) { return addInstance(c, it, true) },
	},
	"update_instances": {
		required: []string{"id"},
		optional: []string{"name", "status", "roleid", "groupid", "maxenrolled"},
		strings:  []string{"name"},
		run: func(c *ctx, courseID int64, it args) (int64, *wsError) {
			e, err := instanceOf(c, managedInstance, it.int("id"), courseID)
			if err != nil {
				return 0, err
			}
			return 0, updateInstance(c, e, it)
		},
	},
	"delete_instances": {
		required: []string{"id"},
		run: func(c *ctx, courseID int64, it args) (int64, *wsError) {
			if _, ok := c.d().Instances[it.int("id")]; !ok {
				return 0, nil // already deleted: a resent item changes nothing
			}
			e, err := instanceOf(c, managedInstance, it.int("id"), courseID)
			if err != nil {
				return 0, err
			}
			return 0, deleteInstance(c, e)
		},
	},
	"set_enrolments": {
		required: []string{"instanceid", "userid", "roleid", "timestart", "timeend", "suspended"},
		run: func(c *ctx, courseID int64, it args) (int64, *wsError) {
			e, err := instanceOf(c, enrolInstance, it.int("instanceid"), courseID)
			if err != nil {
				return 0, err
			}
			return 0, setEnrolment(c, e, it)
		},
	},
	"unenrol_users": {
		required: []string{"instanceid", "userid"},
		run: func(c *ctx, courseID int64, it args) (int64, *wsError) {
			e, err := instanceOf(c, enrolInstance, it.int("instanceid"), courseID)
			if err != nil {
				return 0, err
			}
			return 0, unenrolUser(c, e, it.int("userid"))
		},
	},
	"create_groups": {
		required: []string{"name"},
		strings:  []string{"name"}, returnsID: true,
		run: func(c *ctx, courseID int64, it args) (int64, *wsError) {
			return createGroup(c, courseID, it.str("name"))
		},
	},
	"add_members": {
		required: []string{"groupid", "userid"},
		run: func(c *ctx, courseID int64, it args) (int64, *wsError) {
			return 0, addManualMember(c, courseID, it.int("groupid"), it.int("userid"))
		},
	},
	"remove_members": {
		required: []string{"groupid", "userid"},
		run: func(c *ctx, courseID int64, it args) (int64, *wsError) {
			return 0, removeManualMember(c, courseID, it.int("groupid"), it.int("userid"))
		},
	},
}

// instanceOf looks an item's instance up with find and checks that it belongs to the
// course the item names.
func instanceOf(c *ctx, find func(*ctx, int64) (Instance, *wsError), id, courseID int64) (Instance, *wsError) {
	e, err := find(c, id)
	if err == nil {
		err = inCourse(e, courseID)
	}
	return e, err
}

// inCourse refuses an instance of another course than the item's courseid: for the
// item, that instance does not exist.
func inCourse(e Instance, courseID int64) *wsError {
	if e.CourseID != courseID {
		return localErr("unknowninstance", e.ID)
	}
	return nil
}

// writeResult is one course's outcome.
type writeResult struct {
	CourseID  int64   `json:"courseid"`
	Status    string  `json:"status"`
	Index     int     `json:"index"`
	ErrorCode string  `json:"errorcode"`
	Message   string  `json:"message"`
	IDs       []int64 `json:"ids"`
}

// courseBatch is the items of one course, in request order.
type courseBatch struct {
	courseID int64
	indexes  []int
	items    []args
}

func payloadErr(format string, a ...any) *wsError {
	return localErr("invalidpayload", fmt.Sprintf(format, a...))
}

// parseWrite validates the whole payload before anything is written and groups the
// items by course, courses in order of first appearance.
func parseWrite(operation, raw string) (writeOp, []*courseBatch, *wsError) {
	op, ok := writeOps[operation]
	if !ok {
		return op, nil, payloadErr("unknown operation %q", operation)
	}
	if len(raw) > maxWriteBytes {
		return op, nil, payloadErr("items is larger than %d bytes", maxWriteBytes)
	}
	dec := json.NewDecoder(strings.NewReader(raw))
	dec.UseNumber()
	var list []json.RawMessage
	if err := dec.Decode(&list); err != nil || dec.More() {
		return op, nil, payloadErr("items is not a JSON array")
	}
	if len(list) > maxWriteItems {
		return op, nil, payloadErr("%d items, at most %d per call", len(list), maxWriteItems)
	}
	var batches []*courseBatch
	byCourse := map[int64]*courseBatch{}
	for i, rawItem := range list {
		it, err := parseItem(op, rawItem)
		if err != "" {
			return op, nil, payloadErr("item %d: %s", i, err)
		}
		if operation == "set_enrolments" {
			ts, te := it.int("timestart"), it.int("timeend")
			if ts < 0 || te < 0 || (te != 0 && te < ts) {
				return op, nil, payloadErr("item %d: timestart and timeend must be 0 or more and timeend 0 or at least timestart", i)
			}
		}
		for _, flag := range []string{"status", "suspended"} {
			if v, ok := it[flag].(int64); ok && v != 0 && v != 1 {
				return op, nil, payloadErr("item %d: %s must be 0 or 1", i, flag)
			}
		}
		if operation == "create_groups" && strings.TrimSpace(it.str("name")) == "" {
			return op, nil, payloadErr("item %d: name is empty", i)
		}
		cid := it.int("courseid")
		b := byCourse[cid]
		if b == nil {
			b = &courseBatch{courseID: cid}
			byCourse[cid] = b
			batches = append(batches, b)
		}
		b.indexes = append(b.indexes, i)
		b.items = append(b.items, it)
	}
	return op, batches, nil
}

// parseItem checks one item's fields and types and applies the v1 defaults.
func parseItem(op writeOp, raw json.RawMessage) (args, string) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var obj map[string]any
	if err := dec.Decode(&obj); err != nil || obj == nil {
		return nil, "not a JSON object"
	}
	known := slices.Concat([]string{"courseid"}, op.required, op.optional)
	for k := range obj {
		if !slices.Contains(known, k) {
			return nil, "unknown field " + k
		}
	}
	it := args{}
	for _, k := range known {
		v, present := obj[k]
		if !present {
			if k == "courseid" || slices.Contains(op.required, k) {
				return nil, "missing field " + k
			}
			continue
		}
		if slices.Contains(op.strings, k) {
			s, ok := v.(string)
			if !ok {
				return nil, k + " must be a string"
			}
			if k == "name" && tagRE.MatchString(s) {
				return nil, k + " must not contain HTML tags"
			}
			if k == "enrol" && !pluginRE.MatchString(s) {
				return nil, k + " must be a plugin name"
			}
			it[k] = s
			continue
		}
		n, ok := v.(json.Number)
		if !ok {
			return nil, k + " must be an integer"
		}
		i, err := strconv.ParseInt(n.String(), 10, 64)
		if err != nil {
			return nil, k + " must be an integer"
		}
		it[k] = i
	}
	return it, ""
}

// localWrite is local_enrolctl_write: each course's items run in one transaction;
// a failing item rolls back its course only.
func localWrite(c *ctx, a args) (any, *wsError) {
	op, batches, err := parseWrite(a.str("operation"), a.str("items"))
	if err != nil {
		return nil, err
	}
	s := c.s
	out := make([]writeResult, 0, len(batches))
	for _, b := range batches {
		res := writeResult{CourseID: b.courseID, Status: "ok", Index: -1, IDs: []int64{}}
		s.d.begin()
		c.t = &tx{d: s.d, now: c.t.now, actor: c.t.actor}
		failAt, ferr := runCourse(c, op, b)
		if ferr == nil {
			c.t.settle()
			s.d.commit()
			if op.returnsID {
				res.IDs = append([]int64{}, c.ids...)
			}
		} else {
			s.d.rollback()
			res = writeResult{CourseID: b.courseID, Status: "error", Index: b.indexes[failAt], ErrorCode: ferr.ErrorCode,
				Message: c.s.errorMessage(ferr), IDs: []int64{}}
		}
		c.ids = nil
		out = append(out, res)
	}
	return out, nil
}

// runCourse runs one course's items and returns the failing item's position.
func runCourse(c *ctx, op writeOp, b *courseBatch) (int, *wsError) {
	if at, ok := c.deadlocked[b.courseID]; ok {
		// The deadlock fault: PostgreSQL aborted this course's transaction (and the
		// plugin's retries met the same lock).
		return at, deadlockErr()
	}
	if _, ok := c.d().Courses[b.courseID]; !ok || b.courseID == SiteCourseID {
		return 0, localErr("unknowncourse", b.courseID)
	}
	if err := c.s.courseFault(b.courseID); err != nil {
		return 0, err
	}
	for i, it := range b.items {
		id, err := op.run(c, b.courseID, it)
		if err != nil {
			return i, err
		}
		c.ids = append(c.ids, id)
	}
	return 0, nil
}

// errorMessage is the message a course result carries: with debugging on, the
// debuginfo is appended as DEBUG_DEVELOPER does.
func (s *Sim) errorMessage(e *wsError) string {
	if s.d.Config.Debug && e.DebugInfo != "" {
		return e.Message + " (" + e.DebugInfo + ")"
	}
	return e.Message
}

// createGroup is groups_create_group for the create_groups operation: an existing
// group of that name is answered, not duplicated.
func createGroup(c *ctx, courseID int64, name string) (int64, *wsError) {
	if err := c.require("moodle/course:managegroups"); err != nil {
		return 0, err
	}
	name = strings.TrimSpace(name)
	if g, ok := c.d().groupByName(courseID, name); ok {
		return g.ID, nil
	}
	return c.t.addGroup(Group{CourseID: courseID, Name: name}), nil
}

// memberOf resolves a group of the course and an enrollable user for add_members and
// remove_members.
func memberOf(c *ctx, courseID, groupID, userID int64) (Group, *wsError) {
	d := c.d()
	g, ok := d.Groups[groupID]
	if !ok || g.CourseID != courseID {
		return g, localErr("invalidgroup", map[string]any{"groupid": groupID, "courseid": courseID})
	}
	if err := realUser(d, userID); err != nil {
		return g, err
	}
	return g, c.require("moodle/course:managegroups")
}

// addManualMember is groups_add_member for add_members: a member already (any
// component) is a no-op; a user not enrolled in the course is notenrolled.
func addManualMember(c *ctx, courseID, groupID, userID int64) *wsError {
	g, err := memberOf(c, courseID, groupID, userID)
	if err != nil {
		return err
	}
	if _, ok := c.d().groupMember(groupID, userID); ok {
		return nil
	}
	if !c.t.addMember(g, userID, "", 0) {
		return localErr("notenrolled", map[string]any{"userid": userID, "courseid": courseID})
	}
	return nil
}

// removeManualMember is groups_remove_member of a manual membership for
// remove_members: not a member is a no-op; a membership a plugin made is
// notmanualmember (enrolctl never removes what a sync will put back).
func removeManualMember(c *ctx, courseID, groupID, userID int64) *wsError {
	if _, err := memberOf(c, courseID, groupID, userID); err != nil {
		return err
	}
	m, ok := c.d().groupMember(groupID, userID)
	if !ok {
		return nil
	}
	if m.Component != "" {
		return localErr("notmanualmember", map[string]any{"userid": userID, "groupid": groupID})
	}
	c.t.removeMember(m)
	return nil
}
