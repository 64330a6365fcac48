package cli

import (
	"testing"

	"github.com/enrolctl/enrolctl/internal/apply"
	"github.com/enrolctl/enrolctl/internal/config"
)

// Issue 10: max_removals and max_share in enrolctl.yaml were parsed and ignored.
func TestRemovalLimitsPrecedence(t *testing.T) {
	zero, five, share := 0, 5, 0.5
	tests := []struct {
		name  string
		site  *config.Site
		flags applyFlags
		given []string
		want  apply.Limits
	}{
		{"defaults", &config.Site{}, applyFlags{}, nil, apply.DefaultLimits()},
		{"the site's configuration", &config.Site{MaxRemovals: &five, MaxShare: &share, MaxSiteRemovals: &zero}, applyFlags{}, nil,
			apply.Limits{MaxRemovals: 5, MaxShare: 0.5, MaxSiteRemovals: 0}},
		{"0 in the configuration is none, not the default", &config.Site{MaxRemovals: &zero}, applyFlags{}, nil,
			apply.Limits{MaxRemovals: 0, MaxShare: 0.2, MaxSiteRemovals: 20}},
		{"a flag given wins over the configuration", &config.Site{MaxRemovals: &five}, applyFlags{maxRemovals: 0, maxSiteRemovals: 3}, []string{"max-removals", "max-site-removals"},
			apply.Limits{MaxRemovals: 0, MaxShare: 0.2, MaxSiteRemovals: 3}},
		{"a flag not given leaves the configuration", &config.Site{MaxRemovals: &five}, applyFlags{maxRemovals: 10}, nil,
			apply.Limits{MaxRemovals: 5, MaxShare: 0.2, MaxSiteRemovals: 20}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := tt.flags
			f.set = func(name string) bool {
				for _, g := range tt.given {
					if g == name {
						return true
					}
				}
				return false
			}
			if got := f.limits(tt.site); got != tt.want {
				t.Errorf("limits = %+v, want %+v", got, tt.want)
			}
		})
	}
}
