package moodle

import (
	"strings"
	"testing"

	"github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"
	"github.com/google/go-cmp/cmp"

	"github.com/enrolctl/enrolctl/internal/state"
)

func TestToCourse(t *testing.T) {
	cs := CourseState{
		CourseID: 7, Shortname: "C",
		Instances: []Instance{
			{ID: 1, Enrol: "manual"},
			{ID: 2, Enrol: "cohort", CohortIDNumber: "coh", RoleShortname: "student"},
			{ID: 3, Enrol: "self", Name: "Self", RoleShortname: "student"},
		},
		Enrolments: []UserEnrolment{
			{InstanceID: 1, UserID: 10, Username: "ann", TimeEnd: 99},
			{InstanceID: 2, UserID: 10, Username: "ann"},
			{InstanceID: 3, UserID: 11, Username: "bob", Status: 1},
			{InstanceID: 2, UserID: 12, Username: "cat"},
			{InstanceID: 9, UserID: 13, Username: "gone"}, // instance deleted meanwhile
		},
		Roles: []RoleAssignment{
			{UserID: 10, RoleShortname: "student"},
			{UserID: 10, RoleShortname: "editingteacher"},
			{UserID: 10, RoleShortname: "student", Component: "enrol_cohort", ItemID: 2},
			{UserID: 12, RoleShortname: "student", Component: "enrol_cohort", ItemID: 2},
			{UserID: 12, RoleShortname: "guest", Component: "enrol_cohort", ItemID: 0},
			{UserID: 11, RoleShortname: "student"},
		},
		Groups:  []GroupInfo{{ID: 5, Name: "G1"}, {ID: 6, Name: "G0"}, {ID: 8, Name: "Empty"}},
		Members: []GroupMember{{GroupID: 5, Username: "bob"}, {GroupID: 6, Username: "cat", Component: "enrol_cohort", ItemID: 2}, {GroupID: 5, Username: "ann"}, {GroupID: 42, Username: "x"}},
	}
	got := ToCourse(cs)
	want := state.Course{Shortname: "C", ID: 7,
		Methods: []state.Method{
			{Type: state.Cohort, Enabled: true, ID: 2, Cohort: "coh", Role: "student"},
			{Type: state.Manual, Enabled: true, ID: 1},
			{Type: state.Self, Enabled: true, ID: 3, Name: "Self", Role: "student"},
		},
		Enrolments: []state.Enrolment{
			{Username: "ann", UserID: 10, Method: "cohort:coh:student", Roles: []string{"student"}},
			{Username: "cat", UserID: 12, Method: "cohort:coh:student", Roles: []string{"student"}},
			{Username: "ann", UserID: 10, Method: "manual", Roles: []string{"editingteacher", "student"}, End: 99},
			{Username: "bob", UserID: 11, Method: "self:Self", Roles: []string{"student"}, Suspended: true},
		},
		Groups: []state.Group{
			{Name: "Empty", ID: 8},
			{Name: "G0", ID: 6, Members: []state.Member{{Username: "cat", Component: "enrol_cohort", ItemID: 2}}},
			{Name: "G1", ID: 5, Members: []state.Member{{Username: "ann"}, {Username: "bob"}}},
		},
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("ToCourse (-want +got):\n%s", d)
	}
}

// Observe decodes only the id and username of a course's users, through a field that
// shadows CourseState.Users.
func TestObservedCourseDecodesUserRefs(t *testing.T) {
	data := `[{"courseid":3,"shortname":"C","enrolments":[{"id":1,"instanceid":2,"userid":7,"username":"ann"}],
		"users":[{"id":7,"username":"ann","firstname":"Ann","email":"a@x"},{"id":8,"username":"teacher-only"}]}]`
	var got []userRef
	var course *CourseState
	err := streamArray(func(dec *jsontext.Decoder) error {
		var oc observedCourse
		if err := json.UnmarshalDecode(dec, &oc); err != nil {
			return err
		}
		got, course = oc.Users, &oc.CourseState
		return nil
	}).decodeStream(strings.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff([]userRef{{7, "ann"}, {8, "teacher-only"}}, got); d != "" {
		t.Errorf("users (-want +got):\n%s", d)
	}
	if course.CourseID != 3 || len(course.Enrolments) != 1 || course.Users != nil {
		t.Errorf("course state %+v", course)
	}
}
