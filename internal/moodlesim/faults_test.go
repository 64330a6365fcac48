package moodlesim

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// groupCalls creates n groups one call each and returns each call's outcome.
func groupCalls(t *testing.T, st *site, n int) []string {
	var out []string
	for i := range n {
		code, body := st.admin.post("core_group_create_groups", "groups[0][courseid]", id(st.courseA),
			"groups[0][name]", "G"+itoa(int64(i)), "groups[0][description]", "")
		switch {
		case code != 200:
			out = append(out, "http"+itoa(int64(code)))
		case strings.Contains(body, "dmlwriteexception"):
			out = append(out, "dmlwriteexception")
		default:
			out = append(out, "ok")
		}
	}
	return out
}

func TestFaultsAreDeterministicBySeed(t *testing.T) {
	run := func(seed int64) ([]string, int) {
		st := newSite(t)
		st.s.InjectFaults(FaultConfig{Seed: seed, Rate: 0.5, Kind: FaultException})
		out := groupCalls(t, st, 40)
		groups := 0
		for _, o := range out {
			if o == "ok" {
				groups++
			}
		}
		if n := st.s.FaultsInjected(); n != 40-groups {
			t.Errorf("FaultsInjected %d, want %d", n, 40-groups)
		}
		// Every faulted call left nothing behind: only the successful calls made groups.
		var list []groupInfo
		st.all.ok(&list, "core_group_get_course_groups", "courseid", id(st.courseA))
		return out, len(list) - groups
	}
	a, extraA := run(7)
	b, extraB := run(7)
	c, _ := run(8)
	if diff := cmp.Diff(a, b); diff != "" {
		t.Errorf("same seed, different faults:\n%s", diff)
	}
	if cmp.Equal(a, c) {
		t.Errorf("seeds 7 and 8 gave the same 40 outcomes")
	}
	if extraA != 0 || extraB != 0 {
		t.Errorf("faulted calls created groups: %d %d", extraA, extraB)
	}
}

func TestFaultKinds(t *testing.T) {
	t.Run("http500 before the write", func(t *testing.T) {
		st := newSite(t)
		before := saveString(t, st.s)
		st.s.InjectFaults(FaultConfig{Rate: 1, Kind: FaultHTTP500, Functions: []string{"core_group_create_groups"}})
		code, body := st.admin.post("core_group_create_groups", "groups[0][courseid]", id(st.courseA), "groups[0][name]", "G", "groups[0][description]", "")
		if code != 500 || body != "" {
			t.Errorf("got %d %q", code, body)
		}
		if before != saveString(t, st.s) {
			t.Errorf("the site changed")
		}
		// Reads and other functions are not affected.
		st.admin.ok(nil, "local_enrolctl_get_site_status")
	})
	t.Run("after write: applied once, response lost", func(t *testing.T) {
		st := newSite(t)
		st.s.InjectFaults(FaultConfig{Rate: 1, Max: 1, Kind: FaultAfterWrite})
		args := []string{"enrolments[0][instanceid]", id(st.manualA), "enrolments[0][userid]", id(st.u[4]), "enrolments[0][roleid]", "5",
			"enrolments[0][timestart]", "0", "enrolments[0][timeend]", "99", "enrolments[0][suspended]", "0"}
		if code, _ := st.admin.post("local_enrolctl_set_enrolments", args...); code != 500 {
			t.Fatalf("got %d, want 500", code)
		}
		if ue, ok := st.ue(st.manualA, st.u[4]); !ok || ue.TimeEnd != 99 {
			t.Fatalf("the write did not apply: %+v", ue)
		}
		before := saveString(t, st.s)
		st.admin.ok(nil, "local_enrolctl_set_enrolments", args...) // the client's retry
		if diff := cmp.Diff(before, saveString(t, st.s)); diff != "" {
			t.Errorf("the retry duplicated side effects:\n%s", diff)
		}
		if got := st.s.WriteCalls()["local_enrolctl_set_enrolments"]; got != 2 {
			t.Errorf("write calls %d, want 2", got)
		}
	})
	t.Run("timeout until the client gives up", func(t *testing.T) {
		st := newSite(t)
		st.s.InjectFaults(FaultConfig{Rate: 1, Kind: FaultTimeout})
		srv := httptest.NewServer(st.s.Handler())
		defer srv.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
		defer cancel()
		body := form("wstoken", "tok", "wsfunction", "core_group_create_groups", "groups[0][courseid]", id(st.courseA),
			"groups[0][name]", "G", "groups[0][description]", "")
		req, _ := http.NewRequestWithContext(ctx, http.MethodPost, srv.URL+"/webservice/rest/server.php", strings.NewReader(body))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		start := time.Now()
		if _, err := http.DefaultClient.Do(req); err == nil {
			t.Errorf("want a timeout")
		}
		if time.Since(start) > 5*time.Second {
			t.Errorf("the handler did not stop with the request")
		}
		if st.s.GroupID(st.courseA, "G") != 0 {
			t.Errorf("a timed-out write applied")
		}
	})
}

func TestSaveLoadRoundTrip(t *testing.T) {
	s := DemoSite()
	first := saveString(t, s)
	if first != saveString(t, DemoSite()) {
		t.Fatal("DemoSite is not deterministic")
	}
	loaded, err := Load(strings.NewReader(first))
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(first, saveString(t, loaded)); diff != "" {
		t.Errorf("round trip (-saved +reloaded):\n%s", diff)
	}
	// The reloaded site answers like the original, and hands out fresh ids.
	loaded.AddToken("tok", ServiceEnrolctl, "admin")
	s.AddToken("tok", ServiceEnrolctl, "admin")
	read := func(sim *Sim) string {
		_, body := client{t, sim, "tok"}.post("local_enrolctl_get_course_state", "courseids[0]", id(sim.CourseID("IFSI-S1-ANAT")))
		return body
	}
	if read(s) != read(loaded) {
		t.Errorf("course state differs after reload")
	}
	g1, g2 := s.AddGroup(s.CourseID("FC-WORD"), "New"), loaded.AddGroup(loaded.CourseID("FC-WORD"), "New")
	if g1 != g2 {
		t.Errorf("ids after reload: %d vs %d", g1, g2)
	}
	if _, err := Load(strings.NewReader(`{"format":99}`)); err == nil {
		t.Errorf("a file of another format loaded")
	}
	if _, err := Load(bytes.NewReader([]byte(`{"format":1,"bogus":1}`))); err == nil {
		t.Errorf("a file with unknown fields loaded")
	}
}

func TestConcurrentRequests(t *testing.T) {
	st := newSite(t)
	var wg sync.WaitGroup
	for i := range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if i%2 == 0 {
				st.admin.post("local_enrolctl_get_course_state", "courseids[0]", id(st.courseA))
				return
			}
			st.admin.post("core_group_create_groups", "groups[0][courseid]", id(st.courseA), "groups[0][name]", "G"+itoa(int64(i)), "groups[0][description]", "")
		}()
	}
	wg.Wait()
	if got := st.s.WriteCalls()["core_group_create_groups"]; got != 10 {
		t.Errorf("write calls %d, want 10", got)
	}
	if got := len(st.s.Requests()); got != 20 {
		t.Errorf("logged %d requests, want 20", got)
	}
}
