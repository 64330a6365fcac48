package moodle

import (
	"context"
	"encoding/json"
	"fmt"
)

// AddInstances creates enrolment instances (local_enrolctl_add_instances) and returns
// their ids in order. On error, the ids of the items committed before the failing batch.
func (c *Client) AddInstances(ctx context.Context, items []NewInstance) ([]int64, error) {
	ids := make([]int64, 0, len(items))
	_, err := writeBatches(ctx, c, "local_enrolctl_add_instances", "instances", items, 9,
		func(f *Form, p string, it NewInstance) {
			f.Int(field(p, "courseid"), it.CourseID)
			f.Set(field(p, "enrol"), it.Enrol)
			f.Set(field(p, "name"), it.Name)
			f.Int(field(p, "status"), status(it.Disabled))
			f.Int(field(p, "roleid"), it.RoleID)
			f.Int(field(p, "cohortid"), it.CohortID)
			f.Int(field(p, "linkedcourseid"), it.LinkedCourseID)
			f.Int(field(p, "groupid"), it.GroupID)
			f.Int(field(p, "maxenrolled"), int64(it.MaxEnrolled))
		},
		func(it NewInstance) (string, string) { return it.Course, "" },
		func(_ int, data []byte) error {
			var resp []struct {
				CourseID int64 `json:"courseid"`
				ID       int64 `json:"id"`
			}
			if err := json.Unmarshal(data, &resp); err != nil {
				return fmt.Errorf("decoding new instance ids: %v", err)
			}
			for _, r := range resp {
				ids = append(ids, r.ID)
			}
			return nil
		})
	return ids, err
}

// UpdateInstances changes instances (local_enrolctl_update_instances); only non-nil
// fields are sent. It returns how many items were committed.
func (c *Client) UpdateInstances(ctx context.Context, items []InstanceUpdate) (int, error) {
	return writeBatches(ctx, c, "local_enrolctl_update_instances", "instances", items, 6,
		func(f *Form, p string, it InstanceUpdate) {
			f.Int(field(p, "id"), it.ID)
			if it.Name != nil {
				f.Set(field(p, "name"), *it.Name)
			}
			if it.Disabled != nil {
				f.Int(field(p, "status"), status(*it.Disabled))
			}
			if it.RoleID != nil {
				f.Int(field(p, "roleid"), *it.RoleID)
			}
			if it.GroupID != nil {
				f.Int(field(p, "groupid"), *it.GroupID)
			}
			if it.MaxEnrolled != nil {
				f.Int(field(p, "maxenrolled"), int64(*it.MaxEnrolled))
			}
		},
		func(it InstanceUpdate) (string, string) { return it.Course, "" }, nil)
}

// DeleteInstances deletes instances and unenrols their users (local_enrolctl_delete_instances).
func (c *Client) DeleteInstances(ctx context.Context, ids []int64, course string) (int, error) {
	return writeBatches(ctx, c, "local_enrolctl_delete_instances", "instanceids", ids, 1,
		func(f *Form, p string, id int64) { f.Int(p, id) },
		func(int64) (string, string) { return course, "" }, nil)
}

// SetEnrolments writes the full state of manual or self enrolments
// (local_enrolctl_set_enrolments). Moodle writes only the rows that differ.
func (c *Client) SetEnrolments(ctx context.Context, items []EnrolmentState) (int, error) {
	return writeBatches(ctx, c, "local_enrolctl_set_enrolments", "enrolments", items, 6,
		func(f *Form, p string, it EnrolmentState) {
			f.Int(field(p, "instanceid"), it.InstanceID)
			f.Int(field(p, "userid"), it.UserID)
			f.Int(field(p, "roleid"), it.RoleID)
			f.Int(field(p, "timestart"), it.TimeStart)
			f.Int(field(p, "timeend"), it.TimeEnd)
			f.Bool(field(p, "suspended"), it.Suspended)
		},
		func(it EnrolmentState) (string, string) { return it.Course, it.Username }, nil)
}

// UnenrolUsers removes manual or self enrolments (local_enrolctl_unenrol_users).
func (c *Client) UnenrolUsers(ctx context.Context, items []Unenrolment) (int, error) {
	return writeBatches(ctx, c, "local_enrolctl_unenrol_users", "enrolments", items, 2,
		func(f *Form, p string, it Unenrolment) {
			f.Int(field(p, "instanceid"), it.InstanceID)
			f.Int(field(p, "userid"), it.UserID)
		},
		func(it Unenrolment) (string, string) { return it.Course, it.Username }, nil)
}

// CreateGroups creates groups (core_group_create_groups) and returns their ids in order.
func (c *Client) CreateGroups(ctx context.Context, items []NewGroup) ([]int64, error) {
	ids := make([]int64, 0, len(items))
	_, err := writeBatches(ctx, c, "core_group_create_groups", "groups", items, 3,
		func(f *Form, p string, it NewGroup) {
			f.Int(field(p, "courseid"), it.CourseID)
			f.Set(field(p, "name"), it.Name)
			f.Set(field(p, "description"), "")
		},
		func(it NewGroup) (string, string) { return it.Course, "" },
		func(_ int, data []byte) error {
			var resp []struct {
				ID int64 `json:"id"`
			}
			if err := json.Unmarshal(data, &resp); err != nil {
				return fmt.Errorf("decoding new group ids: %v", err)
			}
			for _, r := range resp {
				ids = append(ids, r.ID)
			}
			return nil
		})
	return ids, err
}

// AddMembers adds manual group memberships (core_group_add_group_members).
func (c *Client) AddMembers(ctx context.Context, items []Membership) (int, error) {
	return c.members(ctx, "core_group_add_group_members", items)
}

// RemoveMembers removes manual group memberships (core_group_delete_group_members).
func (c *Client) RemoveMembers(ctx context.Context, items []Membership) (int, error) {
	return c.members(ctx, "core_group_delete_group_members", items)
}

func (c *Client) members(ctx context.Context, fn string, items []Membership) (int, error) {
	return writeBatches(ctx, c, fn, "members", items, 2,
		func(f *Form, p string, it Membership) {
			f.Int(field(p, "groupid"), it.GroupID)
			f.Int(field(p, "userid"), it.UserID)
		},
		func(it Membership) (string, string) { return it.Course, it.Username }, nil)
}

func status(disabled bool) int64 {
	if disabled {
		return 1
	}
	return 0
}
