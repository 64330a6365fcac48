package moodlesim

import (
	"bytes"
	"encoding/json"
	"testing"
)

// genericPHPJSON is phpJSON without the course-state fast path.
func genericPHPJSON(v any) []byte {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		panic(err)
	}
	return phpEscape(bytes.TrimRight(buf.Bytes(), "\n"))
}

// The hand-written encoder of get_course_state must write exactly what the generic
// one writes: on a whole generated site and on strings with every escaping case.
func TestCourseStateJSON(t *testing.T) {
	s := GenerateSite(SiteSize{Courses: 120})
	kv := []string{}
	for i, id := range s.CourseIDs() {
		kv = append(kv, "courseids["+itoa(int64(i))+"]", itoa(id))
	}
	var states []courseState
	client{t, s, "bench"}.ok(&states, "local_enrolctl_get_course_state", kv...)
	odd := "a\"b\\c/d\n\t\r\b\f\x01\x1f é€😀 \u2028 <>& \xff"
	states = append(states, courseState{CourseID: 7, Shortname: odd,
		Instances: []stateInstance{{ID: 1, Name: odd, GroupName: odd}},
		Users:     []stateUser{{ID: 3, Firstname: odd, Lastname: "Ünal", Email: "o'neil@x.fr", Suspended: 1}}})
	for _, v := range [][]courseState{states, nil, {}} {
		if got, want := phpJSON(v), genericPHPJSON(v); !bytes.Equal(got, want) {
			i := 0
			for i < min(len(got), len(want)) && got[i] == want[i] {
				i++
			}
			t.Errorf("course states differ at byte %d:\n got …%.120s\nwant …%.120s", i, got[max(0, i-40):], want[max(0, i-40):])
		}
	}
}
