package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/enrolctl/enrolctl/internal/contract"
	"github.com/enrolctl/enrolctl/internal/moodle"
	"github.com/enrolctl/enrolctl/internal/state"
)

// The cases of this file call local_enrolctl's functions directly (Contract v2 of
// docs/contract.md): refusals, bad values, per-course write results and leases must be
// answered the same by the plugin and by moodlesim.

// fixture is one course with a manual instance and one enrolled user, as ids.
type fixture struct {
	course   string
	courseID int64
	manual   int64
	user     string
	userID   int64
	end      int64
}

func newFixture(t *testing.T, w *world) fixture {
	t.Helper()
	users := w.users(t, 1)
	course := w.course(t)
	end := endOf(2027, time.June, 30)
	_, after := w.converge(t, []state.Course{{Shortname: course,
		Methods:    []state.Method{{Type: state.Manual, Enabled: true}},
		Enrolments: []state.Enrolment{manual(users[0], "student", end)}}})
	m, _ := after.Courses[0].Method("manual")
	e := enrolmentOf(t, after.Courses[0], "manual", users[0])
	return fixture{course: course, courseID: after.Courses[0].ID, manual: m.ID, user: users[0], userID: e.UserID, end: end}
}

// courseState is the part of local_enrolctl_get_course_state the cases compare.
type courseState struct {
	CourseID  int64 `json:"courseid"`
	Instances []struct {
		ID    int64  `json:"id"`
		Enrol string `json:"enrol"`
		Name  string `json:"name"`
	} `json:"instances"`
	Enrolments []struct {
		InstanceID int64 `json:"instanceid"`
		UserID     int64 `json:"userid"`
		Status     int   `json:"status"`
		TimeStart  int64 `json:"timestart"`
		TimeEnd    int64 `json:"timeend"`
	} `json:"enrolments"`
	Groups []struct {
		ID   int64  `json:"id"`
		Name string `json:"name"`
	} `json:"groups"`
	Members []struct {
		GroupID   int64  `json:"groupid"`
		UserID    int64  `json:"userid"`
		Component string `json:"component"`
	} `json:"members"`
	Users []struct {
		ID       int64  `json:"id"`
		Username string `json:"username"`
	} `json:"users"`
}

// rawState reads a course with the target's admin client.
func rawState(t *testing.T, tg *target, courseID int64) courseState {
	t.Helper()
	f := &moodle.Form{}
	f.Int("courseids[0]", courseID)
	var out []courseState
	if err := tg.client.Call(context.Background(), "local_enrolctl_get_course_state", f, &out); err != nil {
		t.Fatalf("get_course_state: %v", err)
	}
	if len(out) != 1 {
		t.Fatalf("get_course_state answered %d courses", len(out))
	}
	return out[0]
}

// stateJSON is a course's state as comparable text.
func stateJSON(t *testing.T, tg *target, courseID int64) string {
	t.Helper()
	b, err := json.Marshal(rawState(t, tg, courseID))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func form(kv ...string) *moodle.Form {
	f := &moodle.Form{}
	for i := 0; i+1 < len(kv); i += 2 {
		f.Set(kv[i], kv[i+1])
	}
	return f
}

func itemsJSON(t *testing.T, items ...map[string]any) string {
	t.Helper()
	b, err := json.Marshal(items)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// writeResult is one course's answer of local_enrolctl_write.
type writeResult struct {
	CourseID  int64   `json:"courseid"`
	Status    string  `json:"status"`
	Index     int     `json:"index"`
	ErrorCode string  `json:"errorcode"`
	Message   string  `json:"message"`
	IDs       []int64 `json:"ids"`
}

func write(t *testing.T, c *moodle.Client, op, items string) ([]writeResult, error) {
	t.Helper()
	var out []writeResult
	err := c.Call(context.Background(), "local_enrolctl_write", form("operation", op, "items", items), &out)
	return out, err
}

// validCalls are calls of every local_enrolctl function with values that are right for
// the fixture, so that only the caller's capabilities can make them fail.
func validCalls(t *testing.T, fx fixture, lease string) map[string]*moodle.Form {
	id := fmt.Sprint
	later := id(endOf(2030, time.June, 30))
	return map[string]*moodle.Form{
		"local_enrolctl_get_site_status":       form(),
		"local_enrolctl_get_courses":           form("page", "0", "perpage", "10"),
		"local_enrolctl_get_course_state":      form("courseids[0]", id(fx.courseID)),
		"local_enrolctl_get_course_state_json": form("courseids[0]", id(fx.courseID)),
		"local_enrolctl_get_user_ids":          form("usernames", `["`+fx.user+`"]`),
		"local_enrolctl_add_instances": form("instances[0][courseid]", id(fx.courseID), "instances[0][enrol]", "self",
			"instances[0][name]", "nocap", "instances[0][roleid]", "5"),
		"local_enrolctl_update_instances": form("instances[0][id]", id(fx.manual), "instances[0][name]", "renamed"),
		"local_enrolctl_delete_instances": form("instanceids[0]", id(fx.manual)),
		"local_enrolctl_set_enrolments": form("enrolments[0][instanceid]", id(fx.manual), "enrolments[0][userid]", id(fx.userID),
			"enrolments[0][roleid]", "5", "enrolments[0][timestart]", "0", "enrolments[0][timeend]", later,
			"enrolments[0][suspended]", "0"),
		"local_enrolctl_unenrol_users": form("enrolments[0][instanceid]", id(fx.manual), "enrolments[0][userid]", id(fx.userID)),
		"local_enrolctl_write": form("operation", "set_enrolments", "items", itemsJSON(t, map[string]any{
			"courseid": fx.courseID, "instanceid": fx.manual, "userid": fx.userID, "roleid": 5, "timestart": 0,
			"timeend": endOf(2030, time.June, 30), "suspended": 0})),
		"local_enrolctl_acquire_lease": form("name", lease, "holder", "nocap", "ttl", "60"),
		"local_enrolctl_release_lease": form("name", lease, "holder", "nocap"),
	}
}

func TestRefusedWithoutManageCapability(t *testing.T) {
	each(t, func(t *testing.T, tg *target) {
		if tg.nocap == nil {
			t.Skip("set ENROLCTL_E2E_NOCAP_TOKEN to a token of an account without local/enrolctl:manage")
		}
		w := newWorld(t, tg)
		fx := newFixture(t, w)
		lease := tg.prefix + "-nocap"
		before := stateJSON(t, tg, fx.courseID)
		for fn, f := range validCalls(t, fx, lease) {
			t.Run(fn, func(t *testing.T) {
				err := tg.nocap.Call(context.Background(), fn, f, nil)
				// The services require the capability, so Moodle refuses the token before the
				// function runs (webservice_access_exception).
				if code := moodle.Code(err); code != "accessexception" {
					t.Errorf("%s without local/enrolctl:manage: %v (code %q), want accessexception", fn, err, code)
				}
			})
		}
		if after := stateJSON(t, tg, fx.courseID); after != before {
			t.Errorf("refused calls changed the course:\nbefore %s\nafter  %s", before, after)
		}
		var got struct {
			Acquired bool   `json:"acquired"`
			Holder   string `json:"holder"`
		}
		if err := tg.client.Call(context.Background(), "local_enrolctl_acquire_lease",
			form("name", lease, "holder", "admin", "ttl", "10"), &got); err != nil || !got.Acquired {
			t.Errorf("the lease the refused token asked for is held: %+v %v", got, err)
		}
	})
}

// get_course_state_json answers get_course_state's answer as one JSON string: the same
// values once decoded (Contract v2, plugin 2026113001).
func TestCourseStateJSONMatchesV1(t *testing.T) {
	each(t, func(t *testing.T, tg *target) {
		w := newWorld(t, tg)
		fx := newFixture(t, w)
		ctx := context.Background()
		var v1, v2 any
		if err := tg.client.Call(ctx, "local_enrolctl_get_course_state", form("courseids[0]", fmt.Sprint(fx.courseID)), &v1); err != nil {
			t.Fatal(err)
		}
		var text string
		if err := tg.client.Call(ctx, "local_enrolctl_get_course_state_json", form("courseids[0]", fmt.Sprint(fx.courseID)), &text); err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal([]byte(text), &v2); err != nil {
			t.Fatalf("get_course_state_json is not JSON: %v", err)
		}
		if !reflect.DeepEqual(v1, v2) {
			t.Errorf("get_course_state %v\nget_course_state_json %v", v1, v2)
		}
		if s, ok := v2.([]any); !ok || len(s) != 1 {
			t.Errorf("get_course_state_json answered %v, want one course", v2)
		}
	})
}

// get_course_rows, decoded by the client, gives what get_course_state answers for the same
// courses, field for field (plugin 2026113004; one reader behind both since 2026120702): a
// varied course (three methods, a suspended enrolment, a group with members) and a plain one.
func TestCourseRowsMatchCourseState(t *testing.T) {
	each(t, func(t *testing.T, tg *target) {
		w := newWorld(t, tg)
		varied, _ := variedCourse(t, w)
		fx := newFixture(t, w)
		ctx := context.Background()
		needPlugin(t, tg, contract.PluginCourseRows, "has no get_course_rows")
		_, site := w.observe(t, []string{varied}, nil)
		ref, ok := site.CourseByName(varied)
		if !ok {
			t.Fatalf("course %s not in the catalogue", varied)
		}
		ids := []int64{fx.courseID, ref.ID}
		before := tg.calls.snapshot()["local_enrolctl_get_course_rows"]
		rows, err := tg.client.CourseStates(ctx, ids)
		if err != nil {
			t.Fatal(err)
		}
		if tg.calls.snapshot()["local_enrolctl_get_course_rows"] == before {
			t.Fatal("the client did not read through get_course_rows")
		}
		var named []moodle.CourseState
		if err := tg.client.Call(ctx, "local_enrolctl_get_course_state",
			form("courseids[0]", fmt.Sprint(ids[0]), "courseids[1]", fmt.Sprint(ids[1])), &named); err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(named, rows, cmpopts.EquateEmpty()); diff != "" {
			t.Errorf("get_course_rows differs from get_course_state (-state +rows):\n%s", diff)
		}
		if len(rows) != 2 || len(rows[1].Members) == 0 || len(rows[1].Users) < 5 {
			t.Errorf("the varied course lost its members or users: %+v", rows)
		}
	})
}

// get_course_rows by shortname (plugin 2026120703) answers what it answers by id for the
// courses the site has, in the order named; it leaves out a name the site lacks and one
// that differs from a course's only by case, which MariaDB's collation would match.
func TestCourseRowsByShortname(t *testing.T) {
	each(t, func(t *testing.T, tg *target) {
		w := newWorld(t, tg)
		varied, _ := variedCourse(t, w)
		fx := newFixture(t, w)
		ctx := context.Background()
		needPlugin(t, tg, contract.PluginRowsByName, "reads courses by id only")
		_, site := w.observe(t, []string{varied}, nil)
		ref, ok := site.CourseByName(varied)
		if !ok {
			t.Fatalf("course %s not in the catalogue", varied)
		}
		names, _ := json.Marshal([]string{varied, tg.prefix + "-no-such-course", caseFlip(fx.course), fx.course})
		ids, _ := json.Marshal([]int64{ref.ID, fx.courseID})
		var byName, byID string
		if err := tg.client.Call(ctx, "local_enrolctl_get_course_rows", form("shortnames", string(names)), &byName); err != nil {
			t.Fatal(err)
		}
		if err := tg.client.Call(ctx, "local_enrolctl_get_course_rows", form("courseids", string(ids)), &byID); err != nil {
			t.Fatal(err)
		}
		if byName != byID || !strings.Contains(byID, varied) {
			t.Errorf("by name %.400s\n   by id %.400s", byName, byID)
		}
	})
}

// get_courses with withstatus (plugin 2026120704) answers get_site_status too, the same
// status and the same page as the two apart.
func TestCoursesWithStatus(t *testing.T) {
	each(t, func(t *testing.T, tg *target) {
		ctx := context.Background()
		st := needPlugin(t, tg, contract.PluginCoursesWithStatus, "answers the status apart")
		type page struct {
			Total   int                `json:"total"`
			Courses []moodle.CourseRef `json:"courses"`
			Status  *moodle.SiteStatus `json:"status"`
		}
		var with, without page
		if err := tg.client.Call(ctx, "local_enrolctl_get_courses", form("perpage", "5000", "withstatus", "1"), &with); err != nil {
			t.Fatal(err)
		}
		if err := tg.client.Call(ctx, "local_enrolctl_get_courses", form("perpage", "5000"), &without); err != nil {
			t.Fatal(err)
		}
		if without.Status != nil || with.Status == nil {
			t.Fatalf("status without withstatus %+v, with %+v", without.Status, with.Status)
		}
		if diff := cmp.Diff(st, *with.Status); diff != "" {
			t.Errorf("the status differs from get_site_status's (-apart +with):\n%s", diff)
		}
		with.Status = nil
		if diff := cmp.Diff(without, with); diff != "" {
			t.Errorf("the page differs (-without +with):\n%s", diff)
		}
	})
}

// caseFlip is s with the case of its letters swapped: another shortname for Moodle,
// the same one for a case-insensitive collation.
func caseFlip(s string) string {
	return strings.Map(func(r rune) rune {
		if u := unicode.ToUpper(r); u != r {
			return u
		}
		return unicode.ToLower(r)
	}, s)
}

// UserIDs finds the same ids through get_user_ids (plugin 2026113002) as through
// core_user_get_users_by_field, which it uses until get_site_status has told the
// plugin's version; unknown usernames are absent from both.
func TestUserIDsMatchCoreLookup(t *testing.T) {
	each(t, func(t *testing.T, tg *target) {
		w := newWorld(t, tg)
		names := append(w.users(t, 3), tg.prefix+"-nobody")
		ctx := context.Background()
		lookups := func() (map[string]int64, map[string]int) {
			t.Helper()
			before := tg.calls.snapshot()
			ids, err := tg.client.UserIDs(ctx, names)
			if err != nil {
				t.Fatal(err)
			}
			after := tg.calls.snapshot()
			return ids, map[string]int{
				"core_user_get_users_by_field": after["core_user_get_users_by_field"] - before["core_user_get_users_by_field"],
				"local_enrolctl_get_user_ids":  after["local_enrolctl_get_user_ids"] - before["local_enrolctl_get_user_ids"],
			}
		}
		byCore, calls := lookups()
		if calls["core_user_get_users_by_field"] != 1 || calls["local_enrolctl_get_user_ids"] != 0 {
			t.Fatalf("before get_site_status: calls %v, want one core_user_get_users_by_field", calls)
		}
		if len(byCore) != 3 {
			t.Fatalf("core_user_get_users_by_field found %v, want the 3 users created", byCore)
		}
		needPlugin(t, tg, 2026113002, "has no get_user_ids")
		byPlugin, calls := lookups()
		if calls["core_user_get_users_by_field"] != 0 || calls["local_enrolctl_get_user_ids"] != 1 {
			t.Errorf("after get_site_status: calls %v, want one local_enrolctl_get_user_ids", calls)
		}
		if !reflect.DeepEqual(byCore, byPlugin) {
			t.Errorf("core_user_get_users_by_field found %v\nlocal_enrolctl_get_user_ids %v", byCore, byPlugin)
		}
	})
}

func TestBadValues(t *testing.T) {
	each(t, func(t *testing.T, tg *target) {
		w := newWorld(t, tg)
		fx := newFixture(t, w)
		id := fmt.Sprint
		setItem := func(start, end int64) map[string]any {
			return map[string]any{"courseid": fx.courseID, "instanceid": fx.manual, "userid": fx.userID, "roleid": 5,
				"timestart": start, "timeend": end, "suspended": 0}
		}
		tooMany := make([]map[string]any, 5001)
		for i := range tooMany {
			tooMany[i] = setItem(0, 0)
		}
		var manyCourses []string
		for i := range 501 {
			manyCourses = append(manyCourses, fmt.Sprintf("courseids[%d]", i), id(fx.courseID))
		}
		cases := []struct {
			name, fn string
			f        *moodle.Form
			want     string
		}{
			{"site status unknown parameter", "local_enrolctl_get_site_status", form("bogus", "1"), "invalidparameter"},
			{"courses perpage over 5000", "local_enrolctl_get_courses", form("perpage", "5001"), "invalidparameter"},
			{"course state 501 courses", "local_enrolctl_get_course_state", form(manyCourses...), "invalidparameter"},
			{"add unknown method", "local_enrolctl_add_instances", form("instances[0][courseid]", id(fx.courseID),
				"instances[0][enrol]", "nosuchmethod"), "unsupportedmethod"},
			{"update unknown instance", "local_enrolctl_update_instances", form("instances[0][id]", "987654321",
				"instances[0][name]", "x"), "unknowninstance"},
			{"delete unknown instance", "local_enrolctl_delete_instances", form("instanceids[0]", "987654321"), "unknowninstance"},
			{"set inverted times", "local_enrolctl_set_enrolments", form("enrolments[0][instanceid]", id(fx.manual),
				"enrolments[0][userid]", id(fx.userID), "enrolments[0][roleid]", "5", "enrolments[0][timestart]", "2000000000",
				"enrolments[0][timeend]", "1900000000", "enrolments[0][suspended]", "0"), "invalidtimes"},
			{"set negative start", "local_enrolctl_set_enrolments", form("enrolments[0][instanceid]", id(fx.manual),
				"enrolments[0][userid]", id(fx.userID), "enrolments[0][roleid]", "5", "enrolments[0][timestart]", "-5",
				"enrolments[0][timeend]", "0", "enrolments[0][suspended]", "0"), "invalidtimes"},
			{"set the guest user", "local_enrolctl_set_enrolments", form("enrolments[0][instanceid]", id(fx.manual),
				"enrolments[0][userid]", "1", "enrolments[0][roleid]", "5", "enrolments[0][timestart]", "0",
				"enrolments[0][timeend]", "0", "enrolments[0][suspended]", "0"), "unknownuser"},
			{"unenrol unknown instance", "local_enrolctl_unenrol_users", form("enrolments[0][instanceid]", "987654321",
				"enrolments[0][userid]", id(fx.userID)), "unknowninstance"},
			{"user ids not JSON", "local_enrolctl_get_user_ids", form("usernames", "{not json"), "invalidpayload"},
			{"user ids an object", "local_enrolctl_get_user_ids", form("usernames", `{"a":"b"}`), "invalidpayload"},
			{"user ids a number among names", "local_enrolctl_get_user_ids", form("usernames", `["`+fx.user+`",5]`), "invalidpayload"},
			{"user ids 5001 names", "local_enrolctl_get_user_ids", form("usernames", fmt.Sprintf(`[%s""]`, strings.Repeat(`"x",`, 5000))), "invalidpayload"},
			{"write not JSON", "local_enrolctl_write", form("operation", "set_enrolments", "items", "{not json"), "invalidpayload"},
			{"write not an array", "local_enrolctl_write", form("operation", "set_enrolments", "items", `{"a":1}`), "invalidpayload"},
			{"write unknown operation", "local_enrolctl_write", form("operation", "drop_everything", "items", "[]"), "invalidpayload"},
			{"write inverted times", "local_enrolctl_write", form("operation", "set_enrolments",
				"items", itemsJSON(t, setItem(2000000000, 1900000000))), "invalidpayload"},
			{"write field of the wrong type", "local_enrolctl_write", form("operation", "unenrol_users",
				"items", fmt.Sprintf(`[{"courseid":%d,"instanceid":"%d","userid":%d}]`, fx.courseID, fx.manual, fx.userID)), "invalidpayload"},
			{"write operation with a space", "local_enrolctl_write", form("operation", "set enrolments", "items", "[]"), "invalidpayload"},
			{"write status 2", "local_enrolctl_write", form("operation", "add_instances", "items",
				fmt.Sprintf(`[{"courseid":%d,"enrol":"self","name":"x","status":2}]`, fx.courseID)), "invalidpayload"},
			{"write name with markup", "local_enrolctl_write", form("operation", "create_groups", "items",
				fmt.Sprintf(`[{"courseid":%d,"name":"<b>TP</b>"}]`, fx.courseID)), "invalidpayload"},
			{"write integer as float", "local_enrolctl_write", form("operation", "unenrol_users", "items",
				fmt.Sprintf(`[{"courseid":%d,"instanceid":%d.0,"userid":%d}]`, fx.courseID, fx.manual, fx.userID)), "invalidpayload"},
			{"write 5001 items", "local_enrolctl_write", form("operation", "set_enrolments", "items", itemsJSON(t, tooMany...)), "invalidpayload"},
			// A good first item and a bad second one: nothing is written, not even the first.
			{"write missing field after a good item", "local_enrolctl_write", form("operation", "unenrol_users",
				"items", fmt.Sprintf(`[{"courseid":%d,"instanceid":%d,"userid":%d},{"courseid":%d,"instanceid":%d}]`,
					fx.courseID, fx.manual, fx.userID, fx.courseID, fx.manual)), "invalidpayload"},
			{"lease ttl under 10", "local_enrolctl_acquire_lease", form("name", tg.prefix, "holder", "x", "ttl", "5"), "invalidparameter"},
			{"lease ttl over 3600", "local_enrolctl_acquire_lease", form("name", tg.prefix, "holder", "x", "ttl", "3601"), "invalidparameter"},
			{"release without holder", "local_enrolctl_release_lease", form("name", tg.prefix), "invalidparameter"},
		}
		before := stateJSON(t, tg, fx.courseID)
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				err := tg.client.Call(context.Background(), c.fn, c.f, nil)
				if code := moodle.Code(err); code != c.want {
					t.Errorf("%s: %v (code %q), want %s", c.fn, err, code, c.want)
				}
			})
		}
		if after := stateJSON(t, tg, fx.courseID); after != before {
			t.Errorf("refused calls changed the course:\nbefore %s\nafter  %s", before, after)
		}
	})
}

func TestWritePerCourseResults(t *testing.T) {
	each(t, func(t *testing.T, tg *target) {
		w := newWorld(t, tg)
		a, b := newFixture(t, w), newFixture(t, w)
		newEnd := endOf(2028, time.June, 30)
		set := func(fx fixture, user int64) map[string]any {
			return map[string]any{"courseid": fx.courseID, "instanceid": fx.manual, "userid": user, "roleid": 5,
				"timestart": 0, "timeend": newEnd, "suspended": 0}
		}
		beforeB := stateJSON(t, tg, b.courseID)
		// Course b's second item names an unknown user: b rolls back, a commits.
		res, err := write(t, tg.client, "set_enrolments", itemsJSON(t, set(a, a.userID), set(b, b.userID), set(b, 987654321)))
		if err != nil {
			t.Fatalf("write: %v", err)
		}
		if len(res) != 2 || res[0].CourseID != a.courseID || res[0].Status != "ok" || res[0].Index != -1 ||
			res[1].CourseID != b.courseID || res[1].Status != "error" || res[1].Index != 2 || res[1].ErrorCode != "unknownuser" {
			t.Errorf("results = %+v, want a ok and b error at index 2 (unknownuser)", res)
		}
		if st := rawState(t, tg, a.courseID); len(st.Enrolments) != 1 || st.Enrolments[0].TimeEnd != newEnd {
			t.Errorf("course a enrolments = %+v, want the end moved to %d", st.Enrolments, newEnd)
		}
		if after := stateJSON(t, tg, b.courseID); after != beforeB {
			t.Errorf("course b changed although its transaction failed:\nbefore %s\nafter  %s", beforeB, after)
		}

		// Idempotent items: resending answers the same ids and changes nothing.
		groups := itemsJSON(t, map[string]any{"courseid": a.courseID, "name": "TP1"}, map[string]any{"courseid": a.courseID, "name": "TP2"})
		first, err1 := write(t, tg.client, "create_groups", groups)
		again, err2 := write(t, tg.client, "create_groups", groups)
		if err1 != nil || err2 != nil || len(first) != 1 || len(first[0].IDs) != 2 || fmt.Sprint(first[0].IDs) != fmt.Sprint(again[0].IDs) {
			t.Errorf("create_groups twice: %+v %v / %+v %v, want the same two ids", first, err1, again, err2)
		}
		self := itemsJSON(t, map[string]any{"courseid": a.courseID, "enrol": "self", "name": "Auditeurs", "roleid": 5, "status": 1})
		first, err1 = write(t, tg.client, "add_instances", self)
		again, err2 = write(t, tg.client, "add_instances", self)
		if err1 != nil || err2 != nil || len(first[0].IDs) != 1 || first[0].IDs[0] == 0 || fmt.Sprint(first[0].IDs) != fmt.Sprint(again[0].IDs) {
			t.Errorf("add_instances twice: %+v %v / %+v %v, want the same id", first, err1, again, err2)
		}
		st := rawState(t, tg, a.courseID)
		var g int64
		for _, gr := range st.Groups {
			if gr.Name == "TP1" {
				g = gr.ID
			}
		}
		member := itemsJSON(t, map[string]any{"courseid": a.courseID, "groupid": g, "userid": a.userID})
		for range 2 {
			if res, err := write(t, tg.client, "add_members", member); err != nil || res[0].Status != "ok" {
				t.Errorf("add_members: %+v %v", res, err)
			}
		}
		for range 2 {
			if res, err := write(t, tg.client, "remove_members", member); err != nil || res[0].Status != "ok" {
				t.Errorf("remove_members: %+v %v", res, err)
			}
		}
		if st := rawState(t, tg, a.courseID); len(st.Members) != 0 {
			t.Errorf("members after add, add, remove, remove = %+v", st.Members)
		}
		// users lists every user of the course's enrolments, roles and members.
		if st := rawState(t, tg, a.courseID); len(st.Users) != 1 || st.Users[0].Username != a.user {
			t.Errorf("users = %+v, want only %s", st.Users, a.user)
		}
	})
}

func TestLeases(t *testing.T) {
	each(t, func(t *testing.T, tg *target) {
		ctx := context.Background()
		name := tg.prefix + "-apply"
		type lease struct {
			Acquired bool   `json:"acquired"`
			Holder   string `json:"holder"`
			Expires  int64  `json:"expires"`
		}
		acquire := func(holder string) lease {
			t.Helper()
			var l lease
			if err := tg.client.Call(ctx, "local_enrolctl_acquire_lease", form("name", name, "holder", holder, "ttl", "60"), &l); err != nil {
				t.Fatalf("acquire %s: %v", holder, err)
			}
			return l
		}
		release := func(holder string) {
			t.Helper()
			if err := tg.client.Call(ctx, "local_enrolctl_release_lease", form("name", name, "holder", holder), nil); err != nil {
				t.Fatalf("release %s: %v", holder, err)
			}
		}
		now := time.Now().Unix()
		if l := acquire("ci-job-1"); !l.Acquired || l.Holder != "ci-job-1" || l.Expires < now+50 || l.Expires > now+70 {
			t.Errorf("first acquire = %+v, want acquired for 60 s", l)
		}
		if l := acquire("laptop"); l.Acquired || l.Holder != "ci-job-1" {
			t.Errorf("second holder = %+v, want refused naming ci-job-1", l)
		}
		release("laptop") // not the holder: a no-op
		if l := acquire("ci-job-1"); !l.Acquired {
			t.Errorf("renewal by the holder = %+v", l)
		}
		release("ci-job-1")
		if l := acquire("laptop"); !l.Acquired || l.Holder != "laptop" {
			t.Errorf("after release = %+v, want laptop to hold it", l)
		}
		release("laptop")
	})
}

// writeCalls counts local_enrolctl_* write calls between two snapshots of a counter.
func writeCalls(before, after map[string]int) (batched, v1 int) {
	for fn, n := range after {
		d := n - before[fn]
		switch {
		case fn == "local_enrolctl_write":
			batched += d
		case strings.HasPrefix(fn, "local_enrolctl_") && (strings.Contains(fn, "instances") ||
			strings.Contains(fn, "enrolments") || strings.Contains(fn, "unenrol")):
			v1 += d
		case strings.HasPrefix(fn, "core_group_create") || strings.HasPrefix(fn, "core_group_add") || strings.HasPrefix(fn, "core_group_delete"):
			v1 += d
		}
	}
	return batched, v1
}

// Renewing two courses that share 300 users in one apply: one local_enrolctl_write call
// for the stage, no deadlock error, every enrolment renewed.
func TestRenewSharedUsersInOneApply(t *testing.T) {
	each(t, func(t *testing.T, tg *target) {
		w := newWorld(t, tg)
		users := w.users(t, 300)
		a, b := w.course(t), w.course(t)
		course := func(short string, end int64) state.Course {
			c := state.Course{Shortname: short, Methods: []state.Method{{Type: state.Manual, Enabled: true}}}
			for _, u := range users {
				c.Enrolments = append(c.Enrolments, manual(u, "student", end))
			}
			return c
		}
		june27, june28 := endOf(2027, time.June, 30), endOf(2028, time.June, 30)
		w.convergeAll(t, []state.Course{course(a, june27), course(b, june27)})

		before := tg.calls.snapshot()
		p, after := w.convergeAll(t, []state.Course{course(a, june28), course(b, june28)})
		batched, v1 := writeCalls(before, tg.calls.snapshot())
		if s := p.Summary(); s.Change != 600 || s.Add != 0 || s.Remove != 0 {
			t.Errorf("renewal plan %+v, want 600 changes", s)
		}
		// The second plan of convergeAll reads only; the renewal is one stage.
		if batched != 1 || v1 != 0 {
			t.Errorf("renewal took %d local_enrolctl_write calls and %d v1 write calls, want 1 and 0", batched, v1)
		}
		for _, c := range after.Courses {
			for _, e := range c.Enrolments {
				if e.End != june28 {
					t.Fatalf("%s %s ends %d, want %d", c.Shortname, e.Username, e.End, june28)
				}
			}
		}
	})
}

// Converting an IFSI-S1-ANAT-like course from its cohort sync to manual enrolments and
// removing the cohort method keeps every "Promo 2026" membership.
func TestCohortToManualKeepsGroupMemberships(t *testing.T) {
	each(t, func(t *testing.T, tg *target) {
		w := newWorld(t, tg)
		students := w.users(t, 12)
		cohort := w.cohort(t, students)
		course := w.course(t)
		promo := "Promo 2026"
		_, first := w.converge(t, []state.Course{{Shortname: course,
			Methods: []state.Method{{Type: state.Manual, Enabled: true},
				{Type: state.Cohort, Cohort: cohort, Role: "student", Group: promo, Enabled: true}},
			Groups: []state.Group{{Name: promo}}}})
		if g, _ := first.Courses[0].Group(promo); len(g.Members) != len(students) {
			t.Fatalf("%s has %d members after the cohort sync, want %d", promo, len(g.Members), len(students))
		}

		converted := state.Course{Shortname: course,
			Methods: []state.Method{{Type: state.Manual, Enabled: true}},
			Groups:  []state.Group{{Name: promo}},
			Options: state.Options{MethodsPrune: true}}
		for _, u := range students {
			converted.Enrolments = append(converted.Enrolments, manual(u, "student", endOf(2027, time.August, 31)))
			converted.Groups[0].Members = append(converted.Groups[0].Members, state.Member{Username: u})
		}
		_, after := w.converge(t, []state.Course{converted})
		c := after.Courses[0]
		if _, ok := c.Method("cohort:" + cohort + ":student"); ok {
			t.Errorf("the cohort method is still there")
		}
		g, _ := c.Group(promo)
		have := map[string]bool{}
		for _, m := range g.Members {
			have[m.Username] = true
		}
		for _, u := range students {
			if !have[u] {
				t.Errorf("%s lost its %s membership in the conversion", u, promo)
			}
			if e := enrolmentOf(t, c, "manual", u); e.End != endOf(2027, time.August, 31) {
				t.Errorf("%s manual enrolment = %+v", u, e)
			}
		}
	})
}

// Edge cases of local_enrolctl_write where the contract leaves a choice: both
// implementations must make the same one.
func TestWriteEdgeCases(t *testing.T) {
	each(t, func(t *testing.T, tg *target) {
		w := newWorld(t, tg)
		a, b := newFixture(t, w), newFixture(t, w)
		outsider := w.users(t, 1)[0]
		obs, _ := w.observe(t, nil, []string{outsider})
		outsiderID := obs.Directory.Users[outsider]
		one := func(op string, item map[string]any) (writeResult, error) {
			t.Helper()
			res, err := write(t, tg.client, op, itemsJSON(t, item))
			if err != nil || len(res) != 1 {
				return writeResult{}, fmt.Errorf("%v (%d results)", err, len(res))
			}
			return res[0], nil
		}
		// A resent delete of an instance that is gone changes nothing.
		if r, err := one("delete_instances", map[string]any{"courseid": a.courseID, "id": 987654321}); err != nil || r.Status != "ok" {
			t.Errorf("delete of a missing instance = %+v %v, want ok", r, err)
		}
		// An item never reaches outside its course.
		r, err := one("set_enrolments", map[string]any{"courseid": a.courseID, "instanceid": b.manual, "userid": a.userID,
			"roleid": 5, "timestart": 0, "timeend": 0, "suspended": 0})
		if err != nil || r.Status != "error" || r.ErrorCode != "unknowninstance" {
			t.Errorf("instance of another course = %+v %v, want unknowninstance", r, err)
		}
		// Only enrolled users may be members of groups (as core_group_add_group_members).
		g, err := one("create_groups", map[string]any{"courseid": a.courseID, "name": "G"})
		if err != nil || len(g.IDs) != 1 {
			t.Fatalf("create_groups: %+v %v", g, err)
		}
		r, err = one("add_members", map[string]any{"courseid": a.courseID, "groupid": g.IDs[0], "userid": outsiderID})
		if err != nil || r.Status != "error" || r.ErrorCode != "notenrolled" {
			t.Errorf("member not enrolled = %+v %v, want notenrolled", r, err)
		}
		// A group of another course is invalidgroup.
		r, err = one("add_members", map[string]any{"courseid": b.courseID, "groupid": g.IDs[0], "userid": b.userID})
		if err != nil || r.Status != "error" || r.ErrorCode != "invalidgroup" {
			t.Errorf("group of another course = %+v %v, want invalidgroup", r, err)
		}
		// An unknown field is a bad payload, not silently ignored.
		_, err = write(t, tg.client, "unenrol_users", itemsJSON(t, map[string]any{"courseid": a.courseID,
			"instanceid": a.manual, "userid": a.userID, "force": 1}))
		if code := moodle.Code(err); code != "invalidpayload" {
			t.Errorf("unknown field: %v, want invalidpayload", err)
		}
	})
}

// add_members is applied group by group (local\members in the plugin): a call keeps the
// per-item contract — items checked in order, the failing one named, the course all or
// nothing, members already there and repeated items no-ops.
func TestAddMembersGroupByGroup(t *testing.T) {
	each(t, func(t *testing.T, tg *target) {
		w := newWorld(t, tg)
		fx := newFixture(t, w)
		names := w.users(t, 3)
		obs, _ := w.observe(t, nil, names)
		var ids []int64
		var enrol []map[string]any
		for _, n := range names[:2] {
			id := obs.Directory.Users[n]
			ids = append(ids, id)
			enrol = append(enrol, map[string]any{"courseid": fx.courseID, "instanceid": fx.manual, "userid": id,
				"roleid": 5, "timestart": 0, "timeend": 0, "suspended": 0})
		}
		outsider := obs.Directory.Users[names[2]] // never enrolled
		if res, err := write(t, tg.client, "set_enrolments", itemsJSON(t, enrol...)); err != nil || res[0].Status != "ok" {
			t.Fatalf("set_enrolments: %+v %v", res, err)
		}
		g, err := write(t, tg.client, "create_groups", itemsJSON(t,
			map[string]any{"courseid": fx.courseID, "name": "G1"}, map[string]any{"courseid": fx.courseID, "name": "G2"}))
		if err != nil || len(g) != 1 || len(g[0].IDs) != 2 {
			t.Fatalf("create_groups: %+v %v", g, err)
		}
		g1, g2 := g[0].IDs[0], g[0].IDs[1]
		m := func(group, user int64) map[string]any {
			return map[string]any{"courseid": fx.courseID, "groupid": group, "userid": user}
		}
		members := func() string {
			var got []string
			for _, mb := range rawState(t, tg, fx.courseID).Members {
				got = append(got, fmt.Sprintf("%d:%d:%s", mb.GroupID, mb.UserID, mb.Component))
			}
			slices.Sort(got)
			return strings.Join(got, " ")
		}
		want := []string{fmt.Sprintf("%d:%d:", g1, ids[0]), fmt.Sprintf("%d:%d:", g1, ids[1]),
			fmt.Sprintf("%d:%d:", g1, fx.userID), fmt.Sprintf("%d:%d:", g2, ids[0])}
		slices.Sort(want)

		// The fifth item fails: nothing of the course is added, and the answer names item 4.
		res, err := write(t, tg.client, "add_members", itemsJSON(t,
			m(g1, ids[0]), m(g1, ids[1]), m(g2, ids[0]), m(g1, ids[0]), m(g1, outsider)))
		if err != nil || len(res) != 1 || res[0].Status != "error" || res[0].Index != 4 || res[0].ErrorCode != "notenrolled" {
			t.Errorf("add_members with an outsider last = %+v %v, want error notenrolled at index 4", res, err)
		}
		if got := members(); got != "" {
			t.Errorf("members after a refused call = %q, want none", got)
		}
		// An unknown group is named at its own index, before later items are looked at.
		res, err = write(t, tg.client, "add_members", itemsJSON(t, m(g1, ids[0]), m(987654321, ids[1]), m(g1, outsider)))
		if err != nil || len(res) != 1 || res[0].Index != 1 || res[0].ErrorCode != "invalidgroup" {
			t.Errorf("add_members with an unknown group second = %+v %v, want invalidgroup at index 1", res, err)
		}
		// Without the outsider: every membership once, the repeated item a no-op.
		ok := itemsJSON(t, m(g1, ids[0]), m(g1, ids[1]), m(g2, ids[0]), m(g1, ids[0]), m(g1, fx.userID))
		for i := range 2 { // the second call resends the same items: nothing changes
			res, err = write(t, tg.client, "add_members", ok)
			if err != nil || len(res) != 1 || res[0].Status != "ok" {
				t.Fatalf("add_members (call %d) = %+v %v", i+1, res, err)
			}
			if got := members(); got != strings.Join(want, " ") {
				t.Errorf("members after call %d = %q, want %q", i+1, got, strings.Join(want, " "))
			}
		}
	})
}

// get_courses with shortnames (plugin 2026120706) answers, under rows, what
// get_course_rows answers for those names, beside the same status and page.
func TestCoursesWithRows(t *testing.T) {
	each(t, func(t *testing.T, tg *target) {
		w := newWorld(t, tg)
		varied, _ := variedCourse(t, w)
		fx := newFixture(t, w)
		ctx := context.Background()
		needPlugin(t, tg, contract.PluginSiteWithRows, "answers the courses apart")
		names, _ := json.Marshal([]string{varied, tg.prefix + "-no-such-course", fx.course})
		type page struct {
			Total   int                `json:"total"`
			Courses []moodle.CourseRef `json:"courses"`
			Status  *moodle.SiteStatus `json:"status"`
			Rows    *string            `json:"rows"`
		}
		var with, without page
		if err := tg.client.Call(ctx, "local_enrolctl_get_courses", form("perpage", "5000", "withstatus", "1", "shortnames", string(names)), &with); err != nil {
			t.Fatal(err)
		}
		var rows string
		if err := tg.client.Call(ctx, "local_enrolctl_get_course_rows", form("shortnames", string(names)), &rows); err != nil {
			t.Fatal(err)
		}
		if err := tg.client.Call(ctx, "local_enrolctl_get_courses", form("perpage", "5000", "withstatus", "1"), &without); err != nil {
			t.Fatal(err)
		}
		if with.Rows == nil || *with.Rows != rows || !strings.Contains(rows, varied) {
			got := "none"
			if with.Rows != nil {
				got = *with.Rows
			}
			t.Errorf("get_courses' rows %.400s\nget_course_rows' %.400s", got, rows)
		}
		if without.Rows != nil {
			t.Errorf("rows without shortnames: %.200s", *without.Rows)
		}
		with.Rows = nil
		if diff := cmp.Diff(without, with); diff != "" {
			t.Errorf("the status or the page differs (-without +with):\n%s", diff)
		}
	})
}
