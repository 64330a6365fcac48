package e2e

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/enrolctl/enrolctl/internal/apply"
	"github.com/enrolctl/enrolctl/internal/diff"
	"github.com/enrolctl/enrolctl/internal/moodle"
	"github.com/enrolctl/enrolctl/internal/moodlesim"
	"github.com/enrolctl/enrolctl/internal/state"
)

// target is one Moodle the cases run against.
type target struct {
	name   string
	url    string
	client *moodle.Client
	// token is client's, for commands run as a user would (explain_test.go).
	token string
	// prefix makes every name this run creates unique on the site.
	prefix string
	// disabledPlugin is an enrolment plugin disabled on the site ("" if none is known).
	disabledPlugin string
	// sim is set for moodlesim targets, for checks only the fake can make.
	sim *moodlesim.Sim
	// nocap holds every capability enrolctl needs except local/enrolctl:manage (nil when the
	// real site gave no ENROLCTL_E2E_NOCAP_TOKEN).
	nocap *moodle.Client
	// read holds a token of the read-only service enrolctl_read (nil when the real site
	// gave no ENROLCTL_E2E_READ_TOKEN).
	read *moodle.Client
	// calls counts the web-service calls every client of this target made, by function.
	calls *callCounter
}

// callCounter counts calls by wsfunction; a proxy in front of each target feeds it, so the
// count is the same for moodlesim and a real Moodle.
type callCounter struct {
	mu sync.Mutex
	n  map[string]int
}

func (c *callCounter) add(fn string) {
	c.mu.Lock()
	c.n[fn]++
	c.mu.Unlock()
}

// snapshot returns the counts so far.
func (c *callCounter) snapshot() map[string]int {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make(map[string]int, len(c.n))
	for k, v := range c.n {
		out[k] = v
	}
	return out
}

// countingProxy forwards to base and counts the wsfunction of every POST.
func countingProxy(t *testing.T, base string, calls *callCounter) string {
	t.Helper()
	u, err := url.Parse(base)
	if err != nil {
		t.Fatal(err)
	}
	proxy := httputil.NewSingleHostReverseProxy(u)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		r.Body = io.NopCloser(bytes.NewReader(body))
		if v, err := url.ParseQuery(string(body)); err == nil && v.Get("wsfunction") != "" {
			calls.add(v.Get("wsfunction"))
		}
		r.Host = u.Host
		proxy.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	return srv.URL + u.Path
}

const (
	simToken      = "e2e-token-0123456789abcdef012345"
	simNocapToken = "e2e-nocap-0123456789abcdef012345"
	simReadToken  = "e2e-read-0123456789abcdef0123456"
)

// enrolctlCapabilities are the enrolctl role's capabilities (docs/moodle-setup.md, step 4)
// without local/enrolctl:manage.
var enrolctlCapabilities = []string{"webservice/rest:use", "moodle/course:view", "moodle/course:viewhiddencourses",
	"moodle/course:enrolreview", "moodle/course:enrolconfig", "enrol/manual:config", "enrol/manual:enrol",
	"enrol/manual:manage", "enrol/manual:unenrol", "enrol/self:config", "enrol/self:manage", "enrol/self:unenrol",
	"enrol/guest:config", "enrol/cohort:config", "enrol/meta:config", "enrol/meta:selectaslinked",
	"moodle/role:assign", "moodle/cohort:view", "moodle/course:managegroups", "moodle/user:viewdetails",
	"moodle/user:viewalldetails"}

// targets returns moodlesim and, when configured, the real Moodle.
func targets(t *testing.T) []*target {
	t.Helper()
	sim := moodlesim.New(moodlesim.Options{})
	sim.AddToken(simToken, "enrolctl_testing", "admin")
	sim.AddUser(moodlesim.User{Username: "enrolctl_nocap", Firstname: "No", Lastname: "Capability", Email: "nocap@example.invalid"})
	sim.SetCapabilities("enrolctl_nocap", enrolctlCapabilities...)
	sim.AddToken(simNocapToken, "enrolctl_testing", "enrolctl_nocap")
	// An administrator's read token: even the account that may do anything writes
	// nothing through enrolctl_read.
	sim.AddToken(simReadToken, moodlesim.ServiceRead, "admin")
	sim.SetPluginEnabled("guest", false)
	srv := httptest.NewServer(sim.Handler())
	t.Cleanup(srv.Close)
	out := []*target{newTarget(t, "moodlesim", srv.URL, simToken, simNocapToken, simReadToken, "guest")}
	out[0].sim = sim
	if url, tok := os.Getenv("ENROLCTL_E2E_URL"), os.Getenv("ENROLCTL_E2E_TOKEN"); url != "" && tok != "" {
		out = append(out, newTarget(t, "moodle", url, tok, os.Getenv("ENROLCTL_E2E_NOCAP_TOKEN"),
			os.Getenv("ENROLCTL_E2E_READ_TOKEN"), os.Getenv("ENROLCTL_E2E_DISABLED_PLUGIN")))
	}
	return out
}

func newTarget(t *testing.T, name, url, token, nocapToken, readToken, disabled string) *target {
	t.Helper()
	calls := &callCounter{n: map[string]int{}}
	proxied := countingProxy(t, url, calls)
	c, err := moodle.New(moodle.Config{URL: proxied, Token: token})
	if err != nil {
		t.Fatal(err)
	}
	tg := &target{name: name, url: proxied, client: c, token: token, disabledPlugin: disabled, calls: calls,
		prefix: "e2e" + strconv.FormatInt(time.Now().UnixNano()%1e9, 36)}
	if nocapToken != "" {
		if tg.nocap, err = moodle.New(moodle.Config{URL: proxied, Token: nocapToken}); err != nil {
			t.Fatal(err)
		}
	}
	if readToken != "" {
		if tg.read, err = moodle.New(moodle.Config{URL: proxied, Token: readToken}); err != nil {
			t.Fatal(err)
		}
	}
	return tg
}

// each runs a case as a subtest per target.
func each(t *testing.T, f func(t *testing.T, tg *target)) {
	for _, tg := range targets(t) {
		t.Run(tg.name, func(t *testing.T) { f(t, tg) })
	}
}

// world is the fixtures one case creates.
type world struct {
	tg       *target
	category int64
	n        int
}

func newWorld(t *testing.T, tg *target) *world {
	t.Helper()
	w := &world{tg: tg}
	f := &moodle.Form{}
	f.Set("categories[0][name]", tg.prefix+" "+t.Name())
	f.Int("categories[0][parent]", 0)
	var cats []struct {
		ID int64 `json:"id"`
	}
	w.call(t, "core_course_create_categories", f, &cats)
	w.category = cats[0].ID
	return w
}

func (w *world) call(t *testing.T, fn string, f *moodle.Form, out any) {
	t.Helper()
	if err := w.tg.client.Call(context.Background(), fn, f, out); err != nil {
		t.Fatalf("fixture %s: %v", fn, err)
	}
}

func (w *world) name(kind string) string {
	w.n++
	return fmt.Sprintf("%s-%s%d", w.tg.prefix, kind, w.n)
}

// course creates a course and returns its shortname.
func (w *world) course(t *testing.T) string {
	t.Helper()
	short := w.name("C")
	f := &moodle.Form{}
	f.Set("courses[0][fullname]", "Course "+short)
	f.Set("courses[0][shortname]", short)
	f.Int("courses[0][categoryid]", w.category)
	w.call(t, "core_course_create_courses", f, nil)
	return short
}

// users creates n users and returns their usernames.
func (w *world) users(t *testing.T, n int) []string {
	t.Helper()
	f := &moodle.Form{}
	var names []string
	for i := range n {
		u := w.name("u")
		names = append(names, u)
		p := fmt.Sprintf("users[%d]", i)
		f.Set(p+"[username]", u)
		f.Set(p+"[password]", "Secret-Pass-123!")
		f.Set(p+"[firstname]", "First")
		f.Set(p+"[lastname]", u)
		f.Set(p+"[email]", u+"@example.com")
	}
	w.call(t, "core_user_create_users", f, nil)
	return names
}

// cohort creates a system cohort with the given members and returns its idnumber.
func (w *world) cohort(t *testing.T, members []string) string {
	t.Helper()
	idn := w.name("coh")
	f := &moodle.Form{}
	f.Set("cohorts[0][categorytype][type]", "system")
	f.Set("cohorts[0][categorytype][value]", "")
	f.Set("cohorts[0][name]", idn)
	f.Set("cohorts[0][idnumber]", idn)
	w.call(t, "core_cohort_create_cohorts", f, nil)
	if len(members) > 0 {
		f = &moodle.Form{}
		for i, u := range members {
			p := fmt.Sprintf("members[%d]", i)
			f.Set(p+"[cohorttype][type]", "idnumber")
			f.Set(p+"[cohorttype][value]", idn)
			f.Set(p+"[usertype][type]", "username")
			f.Set(p+"[usertype][value]", u)
		}
		w.call(t, "core_cohort_add_cohort_members", f, nil)
	}
	return idn
}

// observe reads the live state of courses, looking up users.
func (w *world) observe(t *testing.T, courses []string, users []string) (state.Snapshot, *moodle.Site) {
	t.Helper()
	ctx := context.Background()
	site, err := w.tg.client.ReadSite(ctx)
	if err != nil {
		t.Fatalf("ReadSite: %v", err)
	}
	obs, err := w.tg.client.Observe(ctx, site, courses, users)
	if err != nil {
		t.Fatalf("Observe: %v", err)
	}
	return obs, site
}

// plan computes the plan that turns the live courses into desired.
func (w *world) plan(t *testing.T, desired []state.Course) (diff.Plan, state.Snapshot) {
	t.Helper()
	// Normalize sorts in place: work on a copy so cases can keep editing their slices.
	want := state.Snapshot{Courses: cloneCourses(desired)}
	want.Normalize()
	obs, _ := w.observe(t, want.Shortnames(), want.Usernames())
	return diff.Compute(want, obs), obs
}

// converge plans, applies, and checks that a second plan is empty. It returns the
// applied plan and the state after of the first desired course.
func (w *world) converge(t *testing.T, desired []state.Course) (diff.Plan, state.Snapshot) {
	t.Helper()
	p, after := w.convergeAll(t, desired)
	c, _ := after.Course(desired[0].Shortname)
	return p, state.Snapshot{Courses: []state.Course{*c}, Directory: after.Directory}
}

// convergeAll is converge returning the state after of every desired course.
func (w *world) convergeAll(t *testing.T, desired []state.Course) (diff.Plan, state.Snapshot) {
	t.Helper()
	p, obs := w.plan(t, desired)
	if len(p.Diagnostics) > 0 {
		t.Fatalf("plan has diagnostics: %v", p.Diagnostics)
	}
	res, err := apply.Run(context.Background(), w.tg.client, p, obs, apply.Options{})
	if err != nil {
		t.Fatalf("apply: %v", err)
	}
	for _, r := range res.Changes {
		if r.Outcome != apply.Applied {
			t.Errorf("%s %s: %s %s", r.Address, r.Outcome, r.ErrorCode, r.Error)
		}
	}
	again, after := w.plan(t, desired)
	if again.HasChanges() {
		t.Errorf("plan after apply is not empty:\n%+v", again.Changes)
	}
	return p, after
}

func cloneCourses(in []state.Course) []state.Course {
	out := make([]state.Course, len(in))
	for i, c := range in {
		c.Methods = slices.Clone(c.Methods)
		c.Enrolments = slices.Clone(c.Enrolments)
		c.Groups = slices.Clone(c.Groups)
		for j := range c.Groups {
			c.Groups[j].Members = slices.Clone(c.Groups[j].Members)
		}
		out[i] = c
	}
	return out
}

// needPlugin skips the test unless the site's plugin is version or newer, saying what
// an older one lacks, and returns the site's status. Reading it also tells the client
// which reads the plugin has.
func needPlugin(t *testing.T, tg *target, version int64, lacks string) moodle.SiteStatus {
	t.Helper()
	st, err := tg.client.SiteStatus(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if st.PluginVersion < version {
		t.Skipf("local_enrolctl %d %s", st.PluginVersion, lacks)
	}
	return st
}
