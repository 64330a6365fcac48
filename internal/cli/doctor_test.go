package cli

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"github.com/enrolctl/enrolctl/internal/contract"
	"github.com/enrolctl/enrolctl/internal/moodlesim"
)

const doctorToken = "0123456789abcdef0123456789abcdef"

// runDoctor runs `enrolctl doctor` against a site served by h and returns its exit code
// and output.
func runDoctor(t *testing.T, h http.HandlerFunc) (int, string) {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	var out bytes.Buffer
	code := prodSiteApp(t, t.TempDir(), srv.URL, &out).Run([]string{"doctor"})
	if strings.Contains(out.String(), doctorToken[:8]) {
		t.Errorf("doctor printed the token:\n%s", out.String())
	}
	return code, out.String()
}

// Issue 10: doctor said "token accepted" for a server answering `{}`.
func TestDoctorChecksTheShapeOfAnswers(t *testing.T) {
	siteInfo := `{"sitename":"S","username":"enrolctl","userid":3,"siteurl":"SITE","release":"5.1","version":"2025100600","functions":[]}`
	tests := []struct {
		name    string
		answer  func(fn string) string
		want    string
		notWant string
	}{
		{"every answer is {}", func(string) string { return "{}" },
			"FAIL  the site's answer to core_webservice_get_site_info is not Moodle's: no userid, no username, no siteurl, no version", "token accepted"},
		{"a JSON null", func(string) string { return "null" }, "is not Moodle's", "token accepted"},
		{"site status is {}", func(fn string) string {
			if fn == "core_webservice_get_site_info" {
				return siteInfo
			}
			return "{}"
		}, "FAIL  local_enrolctl's answer to get_site_status is not the plugin's: no pluginversion, no moodleversion, no enabled enrolment plugins, no roles", "older than"},
		{"a plugin reading state as a JSON string, a service without that function", func(fn string) string {
			status := `{"pluginversion":%d,"pluginrelease":"2","moodleversion":"2025100600","enabledplugins":["manual"],"roles":[{"id":5,"shortname":"student"}]}`
			switch fn {
			case "core_webservice_get_site_info":
				return strings.Replace(siteInfo, `"functions":[]`, `"functions":`+functionList(requiredFunctions), 1)
			case "local_enrolctl_get_site_status":
				return fmt.Sprintf(status, courseStateJSONVersion)
			}
			return "[]"
		}, "FAIL  the token's service lacks local_enrolctl_get_course_state_json", "FAIL  the token's service lacks local_enrolctl_get_site_status"},
		{"a plugin looking usernames up itself, a service without that function", func(fn string) string {
			status := `{"pluginversion":%d,"pluginrelease":"2","moodleversion":"2025100600","enabledplugins":["manual"],"roles":[{"id":5,"shortname":"student"}]}`
			switch fn {
			case "core_webservice_get_site_info":
				fns := append(slices.Clone(requiredFunctions), courseStateJSONFunction)
				return strings.Replace(siteInfo, `"functions":[]`, `"functions":`+functionList(fns), 1)
			case "local_enrolctl_get_site_status":
				return fmt.Sprintf(status, userIDsVersion)
			}
			return "[]"
		}, "FAIL  the token's service lacks local_enrolctl_get_user_ids\n", "get_course_state_json"},
		{"a plugin reading positional rows, a service without that function", func(fn string) string {
			status := `{"pluginversion":%d,"pluginrelease":"2","moodleversion":"2025100600","enabledplugins":["manual"],"roles":[{"id":5,"shortname":"student"}]}`
			switch fn {
			case "core_webservice_get_site_info":
				fns := append(slices.Clone(requiredFunctions), courseStateJSONFunction, userIDsFunction)
				return strings.Replace(siteInfo, `"functions":[]`, `"functions":`+functionList(fns), 1)
			case "local_enrolctl_get_site_status":
				return fmt.Sprintf(status, contract.PluginCourseRows)
			}
			return "[]"
		}, "FAIL  the token's service lacks local_enrolctl_get_course_rows\n", "get_user_ids"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var url string
			code, out := runDoctor(t, func(w http.ResponseWriter, r *http.Request) {
				r.ParseForm()
				url = "http://" + r.Host
				io.WriteString(w, strings.ReplaceAll(tt.answer(r.PostForm.Get("wsfunction")), "SITE", url))
			})
			if code == 0 || !strings.Contains(out, tt.want) || strings.Contains(out, tt.notWant) {
				t.Errorf("exit %d, output:\n%s\nwant a failure with %q and without %q", code, out, tt.want, tt.notWant)
			}
		})
	}
}

// functionList is core_webservice_get_site_info's functions for these names.
func functionList(names []string) string {
	var parts []string
	for _, n := range names {
		parts = append(parts, fmt.Sprintf(`{"name":%q,"version":"1"}`, n))
	}
	return "[" + strings.Join(parts, ",") + "]"
}

func TestDoctorNamesARedirect(t *testing.T) {
	code, out := runDoctor(t, func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "https://moodle.example.edu/webservice/rest/server.php", http.StatusPermanentRedirect)
	})
	if code == 0 || !strings.Contains(out, "redirect to https://moodle.example.edu/webservice/rest/server.php") || !strings.Contains(out, "wwwroot") {
		t.Errorf("exit %d, output:\n%s\nwant the redirect's target and the wwwroot fix", code, out)
	}
}

// A plugin older than 2.6.0 passes, with a warning that plans cannot name the courses
// a removal reaches through their meta links; the shipped plugin gives no warning.
func TestDoctorWarnsOfAPluginWithoutMetaLinks(t *testing.T) {
	sim := moodlesim.GenerateSite(moodlesim.SiteSize{Courses: 5})
	sim.AddToken(doctorToken, moodlesim.ServiceEnrolctl, "admin")
	srv := httptest.NewServer(sim.Handler())
	t.Cleanup(srv.Close)
	for _, tc := range []struct {
		plugin contract.Plugin
		warn   bool
	}{{contract.Newest(), false}, {contract.Plugin{Version: contract.PluginPayloadWording, Release: "2.5.2"}, true}} {
		sim.SetPlugin(tc.plugin)
		var out bytes.Buffer
		code := prodSiteApp(t, t.TempDir(), srv.URL, &out).Run([]string{"doctor"})
		warned := strings.Contains(out.String(), "WARN  local_enrolctl "+tc.plugin.Release+" does not name the courses linking to a course by meta")
		if code != 0 || warned != tc.warn {
			t.Errorf("plugin %s: exit %d, warned %v (want %v):\n%s", tc.plugin.Release, code, warned, tc.warn, out.String())
		}
	}
}
