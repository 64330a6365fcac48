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

type rawJSON []byte

func (r *rawJSON) UnmarshalJSON(b []byte) error { *r = append((*r)[:0], b...); return nil }

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
