package moodle

import (
	"context"
	"fmt"
	"sort"

	"golang.org/x/sync/errgroup"
)

// SiteStatus reads the plugin and Moodle versions, the enabled enrolment plugins, the
// site time zone and the roles.
func (c *Client) SiteStatus(ctx context.Context) (SiteStatus, error) {
	var s SiteStatus
	err := c.read(ctx, "local_enrolctl_get_site_status", nil, &s)
	return s, err
}

// SiteInfo reads core_webservice_get_site_info: who the token is and the functions of
// its service.
func (c *Client) SiteInfo(ctx context.Context) (SiteInfo, error) {
	var s SiteInfo
	err := c.read(ctx, "core_webservice_get_site_info", nil, &s)
	return s, err
}

// Catalogue lists every course of the site with its category path, page by page.
func (c *Client) Catalogue(ctx context.Context) ([]CourseRef, error) {
	const perPage = 1000
	var all []CourseRef
	for page := 0; ; page++ {
		var resp struct {
			Total   int         `json:"total"`
			Courses []CourseRef `json:"courses"`
		}
		f := &Form{}
		f.Int("page", int64(page))
		f.Int("perpage", perPage)
		if err := c.read(ctx, "local_enrolctl_get_courses", f, &resp); err != nil {
			return nil, err
		}
		all = append(all, resp.Courses...)
		if len(resp.Courses) < perPage || len(all) >= resp.Total {
			return all, nil
		}
	}
}

// CourseStates reads the full enrolment state of the given courses, in batches read
// concurrently. The result is in the order of ids.
func (c *Client) CourseStates(ctx context.Context, ids []int64) ([]CourseState, error) {
	const perCall = 50 // keeps each response a few MB at most on large courses
	out := make([]CourseState, len(ids))
	g, gctx := errgroup.WithContext(ctx)
	for start := 0; start < len(ids); start += perCall {
		end := min(start+perCall, len(ids))
		g.Go(func() error {
			f := &Form{}
			for i, id := range ids[start:end] {
				f.Int(item("courseids", i), id)
			}
			var resp []CourseState
			if err := c.read(gctx, "local_enrolctl_get_course_state", f, &resp); err != nil {
				return err
			}
			if len(resp) != end-start {
				return &TransportError{Function: "local_enrolctl_get_course_state", Err: fmt.Errorf("asked for %d courses, got %d", end-start, len(resp))}
			}
			copy(out[start:end], resp)
			return nil
		})
	}
	return out, g.Wait()
}

// UserIDs maps usernames to user ids. Unknown usernames are absent from the result.
func (c *Client) UserIDs(ctx context.Context, usernames []string) (map[string]int64, error) {
	names := uniqueSorted(usernames)
	out := make(map[string]int64, len(names))
	const perCall = 500
	for start := 0; start < len(names); start += perCall {
		f := &Form{}
		f.Set("field", "username")
		for i, u := range names[start:min(start+perCall, len(names))] {
			f.Set(item("values", i), u)
		}
		var users []struct {
			ID       int64  `json:"id"`
			Username string `json:"username"`
		}
		if err := c.read(ctx, "core_user_get_users_by_field", f, &users); err != nil {
			return nil, err
		}
		for _, u := range users {
			out[u.Username] = u.ID
		}
	}
	return out, nil
}

// Cohort is one cohort as core_cohort_search_cohorts lists it.
type Cohort struct {
	ID       int64  `json:"id"`
	Name     string `json:"name"`
	IDNumber string `json:"idnumber"`
}

// Cohorts lists every cohort of the site.
func (c *Client) Cohorts(ctx context.Context) ([]Cohort, error) {
	f := &Form{}
	f.Set("query", "")
	f.Set("context[contextlevel]", "system")
	f.Int("context[instanceid]", 0)
	f.Set("includes", "all")
	f.Int("limitfrom", 0)
	f.Int("limitnum", 0)
	var resp struct {
		Cohorts []Cohort `json:"cohorts"`
	}
	err := c.read(ctx, "core_cohort_search_cohorts", f, &resp)
	return resp.Cohorts, err
}

// batches splits n items of leavesPer leaves each into [start,end) ranges under MaxLeaves.
func (c *Client) batches(n, leavesPer int) [][2]int {
	per := max(1, c.cfg.MaxLeaves/leavesPer)
	var out [][2]int
	for s := 0; s < n; s += per {
		out = append(out, [2]int{s, min(s+per, n)})
	}
	return out
}

// writeBatches sends items in batches, in order, and stops at the first failure. It
// returns how many items were committed: every batch is one Moodle transaction, so the
// failing batch committed nothing.
func writeBatches[T any](ctx context.Context, c *Client, fn, list string, items []T, leavesPer int,
	encode func(f *Form, prefix string, it T), ctxOf func(T) (course, user string), out func(start int, data []byte) error) (int, error) {
	for _, b := range c.batches(len(items), leavesPer) {
		f := &Form{}
		for i, it := range items[b[0]:b[1]] {
			encode(f, item(list, i), it)
		}
		var raw rawJSON
		if err := c.write(ctx, fn, f, &raw); err != nil {
			course, user := batchAbout(items[b[0]:b[1]], ctxOf)
			return b[0], about(err, course, user)
		}
		if out != nil {
			if err := out(b[0], raw); err != nil {
				return b[0], &TransportError{Function: fn, Err: err}
			}
		}
	}
	return len(items), nil
}

type rawJSON []byte

func (r *rawJSON) UnmarshalJSON(b []byte) error { *r = append((*r)[:0], b...); return nil }

// batchAbout names the course (and user) a failed batch was about, when the batch
// concerns only one.
func batchAbout[T any](items []T, ctxOf func(T) (string, string)) (course, user string) {
	courses, users := map[string]bool{}, map[string]bool{}
	for _, it := range items {
		c, u := ctxOf(it)
		courses[c], users[u] = true, true
	}
	if len(courses) == 1 {
		for c := range courses {
			course = c
		}
	}
	if len(items) == 1 {
		for u := range users {
			user = u
		}
	}
	return course, user
}

func uniqueSorted(in []string) []string {
	seen := make(map[string]bool, len(in))
	var out []string
	for _, s := range in {
		if s != "" && !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	sort.Strings(out)
	return out
}

// Call invokes any web-service function once, without retry: for tools and test
// fixtures that need functions enrolctl itself does not (core_user_create_users, ...).
func (c *Client) Call(ctx context.Context, fn string, args *Form, out any) error {
	return c.write(ctx, fn, args, out)
}
