package moodle

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// writeServer answers local_enrolctl_write as the contract says: items grouped by
// course in order of first appearance, one result per course. fail, when set, may
// replace a course's result (or, with course 0, the whole answer) on call n.
type writeServer struct {
	mu      sync.Mutex
	calls   int
	sent    [][]map[string]any // items of each call
	nextID  int64
	fail    func(call int, course int64, items []map[string]any) (result string, ok bool)
	whole   func(call int) (status int, body string, ok bool)
	hangUps int // the first hangUps calls lose their connection before answering
}

func (s *writeServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls++
	form, _ := parseForm(r)
	var items []map[string]any
	if err := json.Unmarshal([]byte(form.Get("items")), &items); err != nil {
		fmt.Fprintf(w, `{"exception":"moodle_exception","errorcode":"invalidpayload","message":"Invalid payload: %v"}`, err)
		return
	}
	s.sent = append(s.sent, items)
	if s.calls <= s.hangUps {
		conn, _, _ := w.(http.Hijacker).Hijack()
		conn.Close()
		return
	}
	if s.whole != nil {
		if status, body, ok := s.whole(s.calls); ok {
			w.WriteHeader(status)
			fmt.Fprint(w, body)
			return
		}
	}
	var order []int64
	byCourse := map[int64][]map[string]any{}
	for _, it := range items {
		c := int64(it["courseid"].(float64))
		if _, ok := byCourse[c]; !ok {
			order = append(order, c)
		}
		byCourse[c] = append(byCourse[c], it)
	}
	var results []string
	for _, c := range order {
		if s.fail != nil {
			if res, ok := s.fail(s.calls, c, byCourse[c]); ok {
				if res != "" {
					results = append(results, res)
				}
				continue
			}
		}
		var ids []int64
		if op := Operation(form.Get("operation")); op.returnsIDs() {
			for range byCourse[c] {
				s.nextID++
				ids = append(ids, s.nextID)
			}
		}
		idsJSON, _ := json.Marshal(ids)
		if ids == nil {
			idsJSON = []byte("[]")
		}
		results = append(results, fmt.Sprintf(`{"courseid":%d,"status":"ok","index":-1,"errorcode":"","message":"","ids":%s}`, c, idsJSON))
	}
	fmt.Fprint(w, "["+strings.Join(results, ",")+"]")
}

func parseForm(r *http.Request) (url.Values, error) {
	if err := r.ParseForm(); err != nil {
		return nil, err
	}
	return r.PostForm, nil
}

func newWriteClient(t *testing.T, s *writeServer) *Client {
	t.Helper()
	srv := httptest.NewServer(s)
	t.Cleanup(srv.Close)
	c, err := New(Config{URL: srv.URL, Token: secret, Backoff: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// renewals returns n set_enrolments items spread over courses 1..courses, interleaved.
func renewals(n, courses int) []SetEnrolment {
	items := make([]SetEnrolment, n)
	for i := range items {
		items[i] = SetEnrolment{CourseID: int64(i%courses + 1), InstanceID: int64(100 + i%courses), UserID: int64(i + 2), RoleID: 5, TimeStart: 1, TimeEnd: 2}
	}
	return items
}

func outcomesOf(r WriteResult) map[int64]Outcome {
	m := map[int64]Outcome{}
	for _, o := range r.Courses {
		m[o.CourseID] = o.Outcome
	}
	return m
}

func TestWriteAcrossCoursesInOneCall(t *testing.T) {
	s := &writeServer{}
	c := newWriteClient(t, s)
	res, err := Write(context.Background(), c, renewals(1200, 30))
	if err != nil {
		t.Fatal(err)
	}
	if res.Calls != 1 || s.calls != 1 || len(s.sent[0]) != 1200 {
		t.Fatalf("1,200 renewals over 30 courses took %d calls (%d items in the first), want 1 call", s.calls, len(s.sent[0]))
	}
	if len(res.Courses) != 30 {
		t.Fatalf("%d course outcomes, want 30", len(res.Courses))
	}
	for i, o := range res.Courses {
		if o.CourseID != int64(i+1) || o.Outcome != Applied || o.Committed != 40 || o.Index != -1 {
			t.Errorf("course outcome %d = %+v, want course %d applied with 40 items", i, o, i+1)
		}
	}
	want := map[string]any{"courseid": 1.0, "instanceid": 100.0, "userid": 2.0, "roleid": 5.0, "timestart": 1.0, "timeend": 2.0, "suspended": 0.0}
	if d := cmp.Diff(want, s.sent[0][0]); d != "" {
		t.Errorf("first item on the wire (-want +got):\n%s", d)
	}
}

func TestWriteSplitsOnlyAtTheContractLimits(t *testing.T) {
	s := &writeServer{}
	c := newWriteClient(t, s)
	// 3 courses of 2,000 items: 6,000 items need 2 calls, each course kept whole.
	res, err := Write(context.Background(), c, renewals(6000, 3))
	if err != nil {
		t.Fatal(err)
	}
	if s.calls != 2 || len(s.sent[0]) != 4000 || len(s.sent[1]) != 2000 {
		t.Fatalf("calls %d, want 2 of 4,000 and 2,000 items", s.calls)
	}
	for _, o := range res.Courses {
		if o.Outcome != Applied || o.Committed != 2000 {
			t.Errorf("%+v, want applied with 2,000 items", o)
		}
	}

	// By size: names long enough that 3 courses of 10 groups exceed the byte limit.
	s = &writeServer{}
	c = newWriteClient(t, s)
	c.maxWriteBytes = 25_000
	var groups []CreateGroup
	for i := range 30 {
		groups = append(groups, CreateGroup{CourseID: int64(i/10 + 1), Name: strings.Repeat("g", 1000) + fmt.Sprint(i)})
	}
	res, err = Write(context.Background(), c, groups)
	if err != nil {
		t.Fatal(err)
	}
	if s.calls != 2 {
		t.Errorf("30 groups of 1 KB under a 25 KB limit took %d calls, want 2", s.calls)
	}
	for _, o := range res.Courses {
		if len(o.IDs) != 10 {
			t.Errorf("course %d: %d ids, want 10", o.CourseID, len(o.IDs))
		}
	}
}

func TestWriteSplitCourseStopsAtItsFailure(t *testing.T) {
	s := &writeServer{fail: func(call int, course int64, _ []map[string]any) (string, bool) {
		if call == 1 {
			return fmt.Sprintf(`{"courseid":%d,"status":"error","index":7,"errorcode":"invalidrole","message":"no"}`, course), true
		}
		return "", false
	}}
	c := newWriteClient(t, s)
	c.maxWriteItems = 10
	res, err := Write(context.Background(), c, renewals(25, 1))
	if err != nil {
		t.Fatal(err)
	}
	o := res.Courses[0]
	if s.calls != 1 || o.Outcome != Failed || o.Index != 7 || o.Committed != 0 {
		t.Errorf("after %d calls: %+v; want the course failed at item 7 and its later parts unsent", s.calls, o)
	}
}

func TestWriteReportsPerCourseFailuresAtTheCallersIndex(t *testing.T) {
	s := &writeServer{fail: func(_ int, course int64, items []map[string]any) (string, bool) {
		if course == 2 {
			// The plugin's index is the position in the call's items: course 2's
			// second item is the fifth on the wire.
			return `{"courseid":2,"status":"error","index":4,"errorcode":"unknownuser","message":"Unknown user ` + secret + `","ids":[]}`, true
		}
		return "", false
	}}
	c := newWriteClient(t, s)
	items := renewals(9, 3) // courses 1,2,3,1,2,3,...: course 2's second item is items[4]
	res, err := Write(context.Background(), c, items)
	if err != nil {
		t.Fatal(err)
	}
	o, _ := res.Course(2)
	if o.Outcome != Failed || o.ErrorCode != "unknownuser" || items[o.Index].UserID != items[4].UserID {
		t.Errorf("course 2 = %+v, want failed at index 4", o)
	}
	if strings.Contains(o.Message, secret) || strings.Contains(o.Err.Error(), secret) {
		t.Errorf("the token leaked into the outcome: %q", o.Message)
	}
	if got := outcomesOf(res); got[1] != Applied || got[3] != Applied {
		t.Errorf("outcomes %v, want courses 1 and 3 applied", got)
	}
	// The plugin must see each course's items together.
	var courses []float64
	for _, it := range s.sent[0] {
		courses = append(courses, it["courseid"].(float64))
	}
	if d := cmp.Diff([]float64{1, 1, 1, 2, 2, 2, 3, 3, 3}, courses); d != "" {
		t.Errorf("wire order (-want +got):\n%s", d)
	}
}

func TestWriteResendsTheWholeCallOnTransientFailures(t *testing.T) {
	deadlock := `{"exception":"dml_write_exception","errorcode":"dmlwriteexception","message":"Error writing to database (deadlock detected)"}`
	tests := []struct {
		name  string
		s     *writeServer
		calls int
	}{
		{"http 503", &writeServer{whole: func(n int) (int, string, bool) { return 503, "busy", n < 3 }}, 3},
		{"lost connection", &writeServer{hangUps: 2}, 3},
		{"cut answer", &writeServer{whole: func(n int) (int, string, bool) { return 200, `[{"courseid":1,"sta`, n == 1 }}, 2},
		{"deadlock for the call", &writeServer{whole: func(n int) (int, string, bool) { return 200, deadlock, n == 1 }}, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newWriteClient(t, tt.s)
			res, err := Write(context.Background(), c, renewals(300, 3))
			if err != nil {
				t.Fatal(err)
			}
			if tt.s.calls != tt.calls || res.Calls != tt.calls {
				t.Fatalf("%d calls (result says %d), want %d", tt.s.calls, res.Calls, tt.calls)
			}
			for i, sent := range tt.s.sent {
				if len(sent) != 300 {
					t.Errorf("call %d resent %d items, want the whole call of 300", i+1, len(sent))
				}
			}
			for _, o := range res.Courses {
				if o.Outcome != Applied {
					t.Errorf("%+v, want applied", o)
				}
			}
		})
	}
}

func TestWriteResendsDeadlockedCoursesTogether(t *testing.T) {
	s := &writeServer{fail: func(call int, course int64, _ []map[string]any) (string, bool) {
		if call == 1 && course != 1 {
			return fmt.Sprintf(`{"courseid":%d,"status":"error","index":0,"errorcode":"dmlwriteexception","message":"deadlock detected"}`, course), true
		}
		return "", false
	}}
	c := newWriteClient(t, s)
	res, err := Write(context.Background(), c, renewals(300, 3))
	if err != nil {
		t.Fatal(err)
	}
	if s.calls != 2 || len(s.sent[1]) != 200 {
		t.Fatalf("%d calls, the second of %d items; want 2 calls, the second with courses 2 and 3 (200 items)", s.calls, len(s.sent[len(s.sent)-1]))
	}
	for _, o := range res.Courses {
		if o.Outcome != Applied || o.ErrorCode != "" || o.Committed != 100 {
			t.Errorf("%+v, want applied", o)
		}
	}
}

func TestWriteNeverAssumesWhatTheAnswerDoesNotSay(t *testing.T) {
	tests := []struct {
		name string
		s    *writeServer
		want map[int64]Outcome
	}{
		{"null", &writeServer{whole: func(int) (int, string, bool) { return 200, "null", true }}, map[int64]Outcome{1: Unknown, 2: Unknown}},
		{"object", &writeServer{whole: func(int) (int, string, bool) { return 200, "{}", true }}, map[int64]Outcome{1: Unknown, 2: Unknown}},
		{"course missing", &writeServer{fail: func(_ int, c int64, _ []map[string]any) (string, bool) { return "", c == 2 }}, map[int64]Outcome{1: Applied, 2: Unknown}},
		{"ids missing", &writeServer{fail: func(_ int, c int64, _ []map[string]any) (string, bool) {
			return fmt.Sprintf(`{"courseid":%d,"status":"ok","index":-1,"ids":[]}`, c), c == 1
		}}, map[int64]Outcome{1: Unknown, 2: Applied}},
		{"odd status", &writeServer{fail: func(_ int, c int64, _ []map[string]any) (string, bool) {
			return fmt.Sprintf(`{"courseid":%d,"status":"maybe","index":-1,"ids":[9]}`, c), c == 1
		}}, map[int64]Outcome{1: Unknown, 2: Applied}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newWriteClient(t, tt.s)
			items := []AddInstance{{CourseID: 1, Enrol: "manual"}, {CourseID: 2, Enrol: "manual"}}
			res, _ := Write(context.Background(), c, items)
			if d := cmp.Diff(tt.want, outcomesOf(res)); d != "" {
				t.Errorf("outcomes (-want +got):\n%s", d)
			}
			if tt.s.calls != 1 {
				t.Errorf("%d calls, want 1", tt.s.calls)
			}
		})
	}
}

func TestWriteStopsAfterAWholeCallFailure(t *testing.T) {
	// Exhausted retries: the call's courses are unknown, later calls' courses not sent.
	s := &writeServer{whole: func(int) (int, string, bool) { return 502, "bad gateway", true }}
	c := newWriteClient(t, s)
	c.maxWriteItems = 100
	res, err := Write(context.Background(), c, renewals(200, 2))
	var te *TransportError
	if !errors.As(err, &te) || te.Status != 502 {
		t.Fatalf("err = %v, want the 502", err)
	}
	if d := cmp.Diff(map[int64]Outcome{1: Unknown, 2: NotSent}, outcomesOf(res)); d != "" {
		t.Errorf("outcomes (-want +got):\n%s", d)
	}
	if s.calls != 1+c.cfg.WriteRetries {
		t.Errorf("%d calls, want %d", s.calls, 1+c.cfg.WriteRetries)
	}

	// A refusal is final: no resend, every course failed with its code.
	s = &writeServer{whole: func(int) (int, string, bool) {
		return 200, `{"exception":"moodle_exception","errorcode":"invalidpayload","message":"Invalid payload: item 3"}`, true
	}}
	c = newWriteClient(t, s)
	res, err = Write(context.Background(), c, renewals(4, 2))
	if Code(err) != "invalidpayload" || s.calls != 1 {
		t.Fatalf("err = %v after %d calls, want invalidpayload after 1", err, s.calls)
	}
	for _, o := range res.Courses {
		if o.Outcome != Failed || o.ErrorCode != "invalidpayload" {
			t.Errorf("%+v, want failed invalidpayload", o)
		}
	}
}

func TestWriteItemsOnTheWire(t *testing.T) {
	name, off, role := "Teachers", true, int64(3)
	tests := []struct {
		item WriteItem
		want string
	}{
		{AddInstance{CourseID: 1, Enrol: "cohort", Name: "L1", Disabled: true, RoleID: 5, CohortID: 7, GroupID: 9},
			`{"courseid":1,"enrol":"cohort","name":"L1","status":1,"roleid":5,"cohortid":7,"linkedcourseid":0,"groupid":9,"maxenrolled":0}`},
		{UpdateInstance{CourseID: 1, ID: 4, Name: &name, Disabled: &off, RoleID: &role}, `{"courseid":1,"id":4,"name":"Teachers","status":1,"roleid":3}`},
		{UpdateInstance{CourseID: 1, ID: 4}, `{"courseid":1,"id":4}`},
		{DeleteInstance{CourseID: 1, ID: 4}, `{"courseid":1,"id":4}`},
		{SetEnrolment{CourseID: 1, InstanceID: 2, UserID: 3, RoleID: 5, TimeStart: 10, TimeEnd: 20, Suspended: true},
			`{"courseid":1,"instanceid":2,"userid":3,"roleid":5,"timestart":10,"timeend":20,"suspended":1}`},
		{UnenrolUser{CourseID: 1, InstanceID: 2, UserID: 3}, `{"courseid":1,"instanceid":2,"userid":3}`},
		{CreateGroup{CourseID: 1, Name: "G"}, `{"courseid":1,"name":"G"}`},
		{AddMember{CourseID: 1, GroupID: 2, UserID: 3}, `{"courseid":1,"groupid":2,"userid":3}`},
		{RemoveMember{CourseID: 1, GroupID: 2, UserID: 3}, `{"courseid":1,"groupid":2,"userid":3}`},
	}
	for _, tt := range tests {
		got, err := json.Marshal(tt.item)
		if err != nil || string(got) != tt.want {
			t.Errorf("%s: %s, %v\nwant %s", tt.item.Operation(), got, err, tt.want)
		}
	}
	if _, err := Write(context.Background(), &Client{}, []WriteItem{AddMember{}, RemoveMember{}}); err == nil {
		t.Error("a write mixing operations was accepted")
	}
}
