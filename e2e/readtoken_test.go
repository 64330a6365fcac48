package e2e

import (
	"context"
	"fmt"
	"slices"
	"testing"

	"github.com/enrolctl/enrolctl/internal/contract"
	"github.com/enrolctl/enrolctl/internal/moodle"
)

// readServiceFunctions are the functions of the read-only service enrolctl_read
// (docs/contract.md, plugin 2026113003; from 2026113004, get_course_rows too).
var readServiceFunctions = []string{
	"local_enrolctl_get_site_status", "local_enrolctl_get_courses", "local_enrolctl_get_course_state",
	"local_enrolctl_get_course_state_json", "local_enrolctl_get_user_ids", "core_webservice_get_site_info",
	"core_user_get_users_by_field", "core_cohort_search_cohorts",
}

// A token of enrolctl_read reads everything a plan reads and Moodle refuses it every
// other function, write functions and the testing service's fixtures included, before
// the function runs: the course is unchanged and the lease it asked for is free.
func TestReadServiceWritesNothing(t *testing.T) {
	each(t, func(t *testing.T, tg *target) {
		if tg.read == nil {
			t.Skip("set ENROLCTL_E2E_READ_TOKEN to a token of the enrolctl_read service")
		}
		ctx := context.Background()
		info, err := tg.read.SiteInfo(ctx)
		if err != nil {
			t.Fatal(err)
		}
		var have []string
		for _, f := range info.Functions {
			have = append(have, f.Name)
		}
		slices.Sort(have)
		want := readServiceFunctions
		status, err := tg.read.SiteStatus(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if status.PluginVersion >= contract.PluginCourseRows {
			want = append(slices.Clone(want), "local_enrolctl_get_course_rows")
		}
		want = slices.Sorted(slices.Values(want))
		if !slices.Equal(have, want) {
			t.Errorf("the read token's service holds %v, want %v", have, want)
		}
		w := newWorld(t, tg)
		fx := newFixture(t, w)
		lease := tg.prefix + "-read"
		before := stateJSON(t, tg, fx.courseID)
		calls := validCalls(t, fx, lease)
		calls["core_user_create_users"] = form("users[0][username]", tg.prefix+"-readuser", "users[0][firstname]", "R",
			"users[0][lastname]", "R", "users[0][email]", tg.prefix+"-readuser@example.invalid", "users[0][createpassword]", "1")
		calls["core_group_create_groups"] = form("groups[0][courseid]", fmt.Sprint(fx.courseID), "groups[0][name]", "read")
		for fn, f := range calls {
			t.Run(fn, func(t *testing.T) {
				err := tg.read.Call(ctx, fn, f, nil)
				switch {
				case slices.Contains(readServiceFunctions, fn) && err != nil:
					t.Errorf("%s with the read token: %v", fn, err)
				case !slices.Contains(readServiceFunctions, fn) && moodle.Code(err) != "accessexception":
					t.Errorf("%s with the read token: %v (code %q), want accessexception", fn, err, moodle.Code(err))
				}
			})
		}
		if after := stateJSON(t, tg, fx.courseID); after != before {
			t.Errorf("refused calls changed the course:\nbefore %s\nafter  %s", before, after)
		}
		var got struct {
			Acquired bool `json:"acquired"`
		}
		if err := tg.client.Call(ctx, "local_enrolctl_acquire_lease", form("name", lease, "holder", "admin", "ttl", "10"), &got); err != nil || !got.Acquired {
			t.Errorf("the lease the read token asked for is held: %+v %v", got, err)
		}
	})
}
