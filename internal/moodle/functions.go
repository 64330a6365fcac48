package moodle

import (
	"context"
	"sort"
)

// SiteStatus reads the plugin and Moodle versions, the enabled enrolment plugins, the
// site time zone and the roles.
func (c *Client) SiteStatus(ctx context.Context) (SiteStatus, error) {
	var s SiteStatus
	err := c.read(ctx, "local_enrolctl_get_site_status", nil, &s)
	if err == nil {
		c.pluginVersion.Store(s.PluginVersion)
	}
	return s, err
}

// SiteInfo reads core_webservice_get_site_info: who the token is and the functions of
// its service.
func (c *Client) SiteInfo(ctx context.Context) (SiteInfo, error) {
	var s SiteInfo
	err := c.read(ctx, "core_webservice_get_site_info", nil, &s)
	return s, err
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
