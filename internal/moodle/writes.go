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

func status(disabled bool) int64 {
	if disabled {
		return 1
	}
	return 0
}
