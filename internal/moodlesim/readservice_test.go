package moodlesim

import (
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"
)

// phpList reads the quoted names of the PHP array assigned to variable in src.
func phpList(t *testing.T, src, variable string) []string {
	t.Helper()
	start := strings.Index(src, "$"+variable+" = [")
	if start < 0 {
		t.Fatalf("no $%s in db/services.php", variable)
	}
	end := strings.Index(src[start:], "];")
	var out []string
	for _, m := range regexp.MustCompile(`'([a-z_]+)'`).FindAllStringSubmatch(src[start:start+end], -1) {
		out = append(out, m[1])
	}
	return out
}

// The simulator's services hold exactly the functions the plugin's db/services.php
// gives them: a function missing here would make a test fail that the real site
// passes, one too many would let a test pass that the real site refuses.
func TestServicesMatchThePlugin(t *testing.T) {
	src, err := os.ReadFile(filepath.Join("..", "..", "moodle", "local_enrolctl", "db", "services.php"))
	if err != nil {
		t.Fatal(err)
	}
	for variable, sim := range map[string][]string{"enrolctlfunctions": enrolctlFunctions, "enrolctlreadfunctions": readFunctions} {
		if got := phpList(t, string(src), variable); !slices.Equal(got, sim) {
			t.Errorf("$%s is %v, the simulator has %v", variable, got, sim)
		}
	}
}

// A token of the read-only service enrolctl_read calls what planning reads, and gets
// accessexception for every other function, before its parameters are looked at and
// without writing anything.
func TestReadServiceRefusesEveryOtherFunction(t *testing.T) {
	st := newSite(t)
	st.s.AddToken("read", ServiceRead, "admin")
	read := client{t, st.s, "read"}
	var info struct {
		Functions []struct {
			Name string `json:"name"`
		} `json:"functions"`
	}
	read.ok(&info, "core_webservice_get_site_info")
	var names []string
	for _, f := range info.Functions {
		names = append(names, f.Name)
	}
	if !slices.Equal(names, readFunctions) {
		t.Errorf("get_site_info lists %v, want %v", names, readFunctions)
	}
	read.ok(nil, "local_enrolctl_get_site_status")
	read.ok(nil, "local_enrolctl_get_course_state", "courseids[0]", id(st.courseA))
	var refused []string
	for name := range functions {
		if !slices.Contains(readFunctions, name) {
			refused = append(refused, name)
		}
	}
	sort.Strings(refused)
	if !slices.Contains(refused, "local_enrolctl_write") || !slices.Contains(refused, "local_enrolctl_acquire_lease") {
		t.Fatalf("the write functions are not in the table: %v", refused)
	}
	before := st.state(t, st.courseA)
	for _, name := range refused {
		if e := read.fail(name, "courseid", id(st.courseA)); e.ErrorCode != "accessexception" || !strings.Contains(e.DebugInfo, name+"() is not allowed") {
			t.Errorf("%s with a read token: %+v, want accessexception", name, e)
		}
	}
	for _, r := range st.s.Requests() {
		if r.Write {
			t.Errorf("%s ran for a read token (%s)", r.Function, r.Outcome)
		}
	}
	if after := st.state(t, st.courseA); !reflect.DeepEqual(before, after) {
		t.Errorf("course A changed: %+v → %+v", before, after)
	}
}
