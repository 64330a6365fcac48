package moodlesim

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestProtocolErrors(t *testing.T) {
	tests := []struct {
		name  string
		debug bool
		token string
		fn    string
		args  []string
		want  wsError
	}{
		{name: "unknown token", token: "nope", fn: "local_enrolctl_get_site_status",
			want: wsError{Exception: exMoodle, ErrorCode: "invalidtoken", Message: "Invalid token - token not found"}},
		{name: "no token", token: "", fn: "local_enrolctl_get_site_status",
			want: wsError{Exception: exMoodle, ErrorCode: "invalidtoken", Message: "Invalid token - token not found"}},
		{name: "unknown function without debug", token: "tok", fn: "local_enrolctl_nope",
			want: wsError{Exception: exMissing, ErrorCode: "invalidrecordunknown", Message: "Can't find data record in database."}},
		{name: "unknown function with debug", debug: true, token: "tok", fn: "local_enrolctl_nope",
			want: wsError{Exception: exMissing, ErrorCode: "invalidrecord", Message: "Can't find data record in database table external_functions.",
				DebugInfo: "SELECT * FROM {external_functions} WHERE name = ?\n[array (\n  0 => 'local_enrolctl_nope',\n)]"}},
		{name: "function outside the service", token: "tok", fn: "core_user_create_users",
			want: wsError{Exception: exAccess, ErrorCode: "accessexception", Message: "Access control exception"}},
		{name: "unknown key", debug: true, token: "tok", fn: "local_enrolctl_get_site_status", args: []string{"foo", "1"},
			want: wsError{Exception: exInvalidParam, ErrorCode: "invalidparameter", Message: "Invalid parameter value detected",
				DebugInfo: "Unexpected keys (foo) detected in parameter array."}},
		{name: "unknown nested key", debug: true, token: "tok", fn: "local_enrolctl_unenrol_users",
			args: []string{"enrolments[0][instanceid]", "1", "enrolments[0][userid]", "2", "enrolments[0][roleid]", "5"},
			want: wsError{Exception: exInvalidParam, ErrorCode: "invalidparameter", Message: "Invalid parameter value detected",
				DebugInfo: "enrolments => Invalid parameter value detected: Unexpected keys (roleid) detected in parameter array."}},
		{name: "missing required key", debug: true, token: "tok", fn: "local_enrolctl_get_course_state",
			want: wsError{Exception: exInvalidParam, ErrorCode: "invalidparameter", Message: "Invalid parameter value detected",
				DebugInfo: "Missing required key in single structure: courseids"}},
		{name: "missing nested key", debug: true, token: "tok", fn: "local_enrolctl_delete_instances", args: []string{"instanceids", "3"},
			want: wsError{Exception: exInvalidParam, ErrorCode: "invalidparameter", Message: "Invalid parameter value detected",
				DebugInfo: "instanceids => Invalid parameter value detected: Only arrays accepted. The bad value is: '3'"}},
		{name: "non-canonical int", debug: true, token: "tok", fn: "local_enrolctl_get_course_state", args: []string{"courseids[0]", "5a"},
			want: wsError{Exception: exInvalidParam, ErrorCode: "invalidparameter", Message: "Invalid parameter value detected",
				DebugInfo: `courseids => Invalid parameter value detected: Invalid external api parameter: the value is "5a", the server was expecting "int" type`}},
		{name: "leading zero int", token: "tok", fn: "local_enrolctl_get_course_state", args: []string{"courseids[0]", "05"},
			want: wsError{Exception: exInvalidParam, ErrorCode: "invalidparameter", Message: "Invalid parameter value detected"}},
		{name: "bool as true", debug: true, token: "tok", fn: "core_group_create_groups",
			args: []string{"groups[0][courseid]", "2", "groups[0][name]", "G", "groups[0][description]", "", "groups[0][participation]", "true"},
			want: wsError{Exception: exInvalidParam, ErrorCode: "invalidparameter", Message: "Invalid parameter value detected",
				DebugInfo: `groups => Invalid parameter value detected: participation => Invalid parameter value detected: Invalid external api parameter: the value is "true", the server was expecting "bool" type`}},
		{name: "no function", token: "tok", fn: "",
			want: wsError{Exception: exInvalidParam, ErrorCode: "invalidparameter", Message: "Invalid parameter value detected"}},
		{name: "unknown course in read", debug: true, token: "tok", fn: "local_enrolctl_get_course_state", args: []string{"courseids[0]", "999"},
			want: wsError{Exception: exMissing, ErrorCode: "invalidrecord", Message: "Can't find data record in database table course.",
				DebugInfo: "SELECT * FROM {course} WHERE id = ?\n[array (\n  0 => 999,\n)]"}},
		{name: "site course in read", token: "tok", fn: "local_enrolctl_get_course_state", args: []string{"courseids[0]", "1"},
			want: wsError{Exception: exMissing, ErrorCode: "invalidrecordunknown", Message: "Can't find data record in database."}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st := newSite(t)
			st.s.SetDebug(tt.debug)
			got := client{t, st.s, tt.token}.fail(tt.fn, tt.args...)
			if tt.debug && tt.want.DebugInfo != "" {
				// A debugging site (DEBUG_DEVELOPER, debugdisplay) appends debuginfo to the message.
				tt.want.Message += " (" + tt.want.DebugInfo + ")"
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("error (-want +got):\n%s", diff)
			}
		})
	}
}

func TestProtocolTransport(t *testing.T) {
	st := newSite(t)
	t.Run("web services off is an empty 403", func(t *testing.T) {
		st.s.SetWebServicesEnabled(false)
		defer st.s.SetWebServicesEnabled(true)
		code, body := st.admin.post("local_enrolctl_get_site_status")
		if code != http.StatusForbidden || body != "" {
			t.Errorf("got %d %q, want 403 and no body", code, body)
		}
	})
	t.Run("void functions answer null", func(t *testing.T) {
		code, body := st.admin.post("local_enrolctl_unenrol_users", "enrolments[0][instanceid]", id(st.manualA), "enrolments[0][userid]", id(st.u[1]))
		if code != 200 || body != "null" {
			t.Errorf("got %d %q, want 200 null", code, body)
		}
	})
	t.Run("GET works and POST wins", func(t *testing.T) {
		req := httptest.NewRequest(http.MethodPost,
			"http://moodle.test/webservice/rest/server.php?wstoken=tok&wsfunction=local_enrolctl_nope&moodlewsrestformat=json",
			strings.NewReader("wsfunction=local_enrolctl_get_courses"))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		rec := httptest.NewRecorder()
		st.s.Handler().ServeHTTP(rec, req)
		if !strings.Contains(rec.Body.String(), `"total":3`) {
			t.Errorf("body %s, want the course list", rec.Body.String())
		}
	})
	t.Run("bodies are encoded like json_encode", func(t *testing.T) {
		_, body := st.admin.post("local_enrolctl_get_courses")
		if !strings.Contains(body, `"categorypath":"Ecampus \/ Sciences"`) || !strings.Contains(body, `"categorypath":"Sant\u00e9 \/ IFSI"`) {
			t.Errorf("body %s: want escaped slashes and \\u escapes", body)
		}
	})
	t.Run("without moodlewsrestformat=json the answer is XML", func(t *testing.T) {
		post := func(body string) string {
			req := httptest.NewRequest(http.MethodPost, "http://moodle.test/webservice/rest/server.php", strings.NewReader(body))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			rec := httptest.NewRecorder()
			st.s.Handler().ServeHTTP(rec, req)
			return rec.Body.String()
		}
		got := post("wstoken=tok&wsfunction=local_enrolctl_get_courses&perpage=1")
		want := `<?xml version="1.0" encoding="UTF-8" ?>
<RESPONSE>
<SINGLE>
<KEY name="total"><VALUE>3</VALUE>
</KEY>
<KEY name="courses"><MULTIPLE>
<SINGLE>
<KEY name="id"><VALUE>2</VALUE>
</KEY>
<KEY name="shortname"><VALUE>A</VALUE>
</KEY>
<KEY name="fullname"><VALUE>Course A</VALUE>
</KEY>
<KEY name="idnumber"><VALUE></VALUE>
</KEY>
<KEY name="categoryid"><VALUE>2</VALUE>
</KEY>
<KEY name="categorypath"><VALUE>Ecampus / Sciences</VALUE>
</KEY>
<KEY name="visible"><VALUE>1</VALUE>
</KEY>
</SINGLE>
</MULTIPLE>
</KEY>
</SINGLE>
</RESPONSE>
`
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("XML (-want +got):\n%s", diff)
		}
		st.s.SetDebug(false)
		got = post("wstoken=nope&wsfunction=local_enrolctl_get_courses&moodlewsrestformat=yaml")
		want = `<?xml version="1.0" encoding="UTF-8" ?>
<EXCEPTION class="core\exception\moodle_exception">
<ERRORCODE>invalidtoken</ERRORCODE>
<MESSAGE>Invalid token - token not found</MESSAGE>
</EXCEPTION>
`
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("XML error (-want +got):\n%s", diff)
		}
	})
	t.Run("max_input_vars truncates silently", func(t *testing.T) {
		st.s.SetMaxInputVars(4) // wstoken, wsfunction, moodlewsrestformat and one more
		defer st.s.SetMaxInputVars(0)
		e := st.admin.fail("local_enrolctl_unenrol_users", "enrolments[0][instanceid]", id(st.manualA), "enrolments[0][userid]", id(st.u[1]))
		if e.ErrorCode != "invalidparameter" {
			t.Errorf("got %+v, want the missing userid", e)
		}
	})
	t.Run("errors carry no debuginfo without debug", func(t *testing.T) {
		st.s.SetDebug(false)
		_, body := st.admin.post("local_enrolctl_get_site_status", "x", "1")
		if strings.Contains(body, "debuginfo") {
			t.Errorf("body %s has debuginfo", body)
		}
	})
	t.Run("non-admin token users hold only their capabilities", func(t *testing.T) {
		st.s.AddToken("weak", ServiceEnrolctl, "u1")
		weak := client{t, st.s, "weak"}
		if e := weak.fail("local_enrolctl_get_courses"); e.ErrorCode != "accessexception" {
			t.Errorf("without webservice/rest:use: %+v", e)
		}
		st.s.SetCapabilities("u1", "webservice/rest:use", "moodle/course:view")
		// local/enrolctl:manage is the services' required capability: Moodle refuses the
		// token before the function runs (measured on Moodle 5.1 with the plugin 2026113000).
		e := weak.fail("local_enrolctl_get_courses")
		if e.ErrorCode != "accessexception" || e.Message != "Access control exception" {
			t.Errorf("without local/enrolctl:manage: %+v", e)
		}
		st.s.SetCapabilities("u1", "webservice/rest:use", "local/enrolctl:manage")
		e = weak.fail("local_enrolctl_get_courses")
		if e.ErrorCode != "nopermissions" || e.Message != "Sorry, but you do not currently have permissions to do that (View courses without participation)." {
			t.Errorf("without moodle/course:view: %+v", e)
		}
		st.s.SetCapabilities("u1", "webservice/rest:use", "local/enrolctl:manage", "moodle/course:view", "enrol/manual:enrol")
		weak.ok(nil, "local_enrolctl_get_courses")
		// Without moodle/role:assign no role is assignable.
		e = weak.fail("local_enrolctl_set_enrolments", "enrolments[0][instanceid]", id(st.manualA), "enrolments[0][userid]", id(st.u[2]),
			"enrolments[0][roleid]", "5", "enrolments[0][timestart]", "0", "enrolments[0][timeend]", "0", "enrolments[0][suspended]", "0")
		if e.ErrorCode != "invalidrole" {
			t.Errorf("without moodle/role:assign: %+v", e)
		}
		weak.ok(nil, "local_enrolctl_set_enrolments", "enrolments[0][instanceid]", id(st.manualA), "enrolments[0][userid]", id(st.u[2]),
			"enrolments[0][roleid]", "0", "enrolments[0][timestart]", "0", "enrolments[0][timeend]", "0", "enrolments[0][suspended]", "0")
		if e := weak.fail("local_enrolctl_get_course_state", "courseids[0]", id(st.cours)); e.ErrorCode != "nopermissions" {
			t.Errorf("hidden course without viewhiddencourses: %+v", e)
		}
	})
	t.Run("tokens never reach the request log", func(t *testing.T) {
		const secret = "5f4dcc3b5aa765d61d8327deb882cf99"
		st.s.AddToken(secret, ServiceEnrolctl, "admin")
		client{t, st.s, secret}.post("local_enrolctl_get_site_status")
		client{t, st.s, secret + "x"}.post("local_enrolctl_get_site_status")
		logged, _ := json.Marshal(st.s.Requests())
		if strings.Contains(string(logged), secret) {
			t.Errorf("the request log holds a token: %s", logged)
		}
	})
}

func TestParseBrackets(t *testing.T) {
	n := newArray()
	if err := parseQuery(n, "a[1][x]=p&a[0][x]=q&b[]=1&b[]=2&a[1][y]=r&c=z&a[1][x]=s", 0); err != nil {
		t.Fatal(err)
	}
	d := obj(
		req("a", list(obj(req("x", val(pRaw)), opt("y", val(pRaw))))),
		req("b", list(val(pInt))),
		req("c", val(pRaw)),
	)
	got, err := validate(d, n)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]any{
		"a": []any{map[string]any{"x": "s", "y": "r"}, map[string]any{"x": "q"}}, // PHP order: first key seen first
		"b": []any{int64(1), int64(2)},
		"c": "z",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

func FuzzParseQuery(f *testing.F) {
	f.Add("a[0][b]=1&a[1][b]=2")
	f.Add("x[=1&y]]=2&z[][]=3")
	f.Fuzz(func(t *testing.T, q string) {
		n := newArray()
		if parseQuery(n, q, 0) != nil {
			return
		}
		_, _ = validate(obj(opt("a", list(obj(opt("b", val(pInt)))))), n)
	})
}

// FuzzHandler posts arbitrary arguments to every function: the handler must answer
// a Moodle JSON body (success or error) and never panic.
func FuzzHandler(f *testing.F) {
	f.Add(uint8(0), "courseids[0]=2")
	f.Add(uint8(3), "instances[0][courseid]=2&instances[0][enrol]=cohort&instances[0][cohortid]=1")
	f.Add(uint8(7), "enrolments[0][instanceid]=1&enrolments[0][userid]=3&enrolments[0][roleid]=5&enrolments[0][timestart]=0&enrolments[0][timeend]=0&enrolments[0][suspended]=1")
	f.Add(uint8(11), "page=99999999999&perpage=1000")
	var names []string
	for name := range functions {
		names = append(names, name)
	}
	slices.Sort(names)
	f.Fuzz(func(t *testing.T, fn uint8, args string) {
		st := newSite(t)
		body := "wstoken=all&moodlewsrestformat=json&wsfunction=" + names[int(fn)%len(names)] + "&" + args
		req := httptest.NewRequest(http.MethodPost, "http://moodle.test/webservice/rest/server.php", strings.NewReader(body))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		rec := httptest.NewRecorder()
		st.s.Handler().ServeHTTP(rec, req)
		if rec.Code == 400 {
			return // a body that is not urlencoded
		}
		if rec.Code != 200 || !json.Valid(rec.Body.Bytes()) {
			t.Fatalf("HTTP %d %q", rec.Code, rec.Body.String())
		}
	})
}
