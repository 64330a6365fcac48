package config

import (
	"strings"
	"testing"
	"time"
)

func TestMaskUsernames(t *testing.T) {
	tests := []struct {
		name string
		src  string
		want map[string]bool
	}{
		{"default on", "sites:\n  a:\n    url: https://a.example\n    token_env: A\n    timezone: UTC\n", map[string]bool{"a": true}},
		{"defaults off, site on", lines(
			"defaults:", "  mask_usernames: false", "  timezone: UTC",
			"sites:",
			"  a: {url: https://a.example, token_env: A}",
			"  b: {url: https://b.example, token_env: B, mask_usernames: true}",
		), map[string]bool{"a": false, "b": true}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, ds := Parse("enrolctl.yaml", []byte(tt.src))
			if len(ds) != 0 {
				t.Fatal(ds)
			}
			for _, s := range c.Sites {
				if s.MaskUsernames != tt.want[s.Name] {
					t.Errorf("site %s: MaskUsernames = %v, want %v", s.Name, s.MaskUsernames, tt.want[s.Name])
				}
			}
		})
	}
	if !Implicit().Sites[0].MaskUsernames {
		t.Error("the sandbox site does not mask usernames")
	}
}

func TestFreezeWindows(t *testing.T) {
	src := lines(
		"defaults:",
		"  timezone: Europe/Paris",
		"  freeze:",
		"    - name: January exams",
		"      from: 2027-01-04",
		"      until: 2027-01-15",
		"sites:",
		"  a:",
		"    url: https://a.example",
		"    token_env: A",
		"    freeze:",
		"      - {name: Results, from: 2027-06-21T08:00:00+02:00, until: 2027-06-25}",
	)
	c, ds := Parse("enrolctl.yaml", []byte(src))
	if len(ds) != 0 {
		t.Fatal(ds)
	}
	s := c.Sites[0]
	if len(s.Freeze) != 2 {
		t.Fatalf("%d windows, want 2", len(s.Freeze))
	}
	paris, _ := time.LoadLocation("Europe/Paris")
	tests := []struct {
		at   time.Time
		want string
	}{
		{time.Date(2027, 1, 3, 23, 59, 0, 0, paris), ""},
		{time.Date(2027, 1, 4, 0, 0, 0, 0, paris), "January exams"},
		{time.Date(2027, 1, 15, 23, 59, 0, 0, paris), "January exams"}, // until is inclusive
		{time.Date(2027, 1, 16, 0, 0, 0, 0, paris), ""},
		{time.Date(2027, 6, 21, 7, 59, 0, 0, paris), ""},
		{time.Date(2027, 6, 21, 8, 0, 0, 0, paris), "Results"},
	}
	for _, tt := range tests {
		w, ok := s.ActiveFreeze(tt.at)
		if got := map[bool]string{true: w.Name}[ok]; got != tt.want {
			t.Errorf("at %v: window %q, want %q", tt.at, got, tt.want)
		}
	}
}

func TestFreezeErrors(t *testing.T) {
	tests := map[string]string{
		"{name: X, from: 2027-01-10, until: 2027-01-02}":            "enrolctl.yaml:4:50: freeze window \"X\" ends before it starts",
		"{name: X, from: soon, until: 2027-01-02}":                  "enrolctl.yaml:4:31: freeze window from: bad date \"soon\"",
		"{name: X, from: 2027-01-10}":                               "until",
		"{name: X, from: 2027-01-10, until: 2027-01-12, reason: y}": "unknown",
	}
	for window, want := range tests {
		src := lines("sites:", "  a:", "    {url: https://a.example, token_env: A, timezone: UTC,", "     freeze: ["+window+"]}")
		_, ds := Parse("enrolctl.yaml", []byte(src))
		if len(ds) == 0 || !strings.Contains(ds[0].Error(), want) {
			t.Errorf("%s: diagnostics %v, want %q", window, ds, want)
		}
	}
}

// sandbox: true is the built-in sandbox with the site's own settings.
func TestSandboxSite(t *testing.T) {
	c, ds := Parse("enrolctl.yaml", []byte("sites:\n  try:\n    sandbox: true\n    mask_usernames: false\n"))
	if len(ds) != 0 {
		t.Fatal(ds)
	}
	s := c.Sites[0]
	if !s.Sandbox || s.URL != "" || s.Timezone != SandboxTimezone || s.MaskUsernames {
		t.Errorf("sandbox site = %+v", s)
	}
	_, ds = Parse("enrolctl.yaml", []byte("sites:\n  try:\n    sandbox: true\n    url: https://x.example\n"))
	if len(ds) != 1 || !strings.Contains(ds[0].Error(), "enrolctl.yaml:4:10: site \"try\": a sandbox site has no url") {
		t.Errorf("sandbox with a url: %v", ds)
	}
}

func TestFreezeWindowsHCL(t *testing.T) {
	src := lines(
		`site "a" {`,
		`  url            = "https://a.example"`,
		`  token_env      = "A"`,
		`  timezone       = "Europe/Paris"`,
		`  mask_usernames = false`,
		`  freeze = [`,
		`    { name = "January exams", from = "2027-01-04", until = "2027-01-15" },`,
		`  ]`,
		`}`,
	)
	c, ds := Parse("enrolctl.hcl", []byte(src))
	if len(ds) != 0 {
		t.Fatal(ds)
	}
	s := c.Sites[0]
	if s.MaskUsernames || len(s.Freeze) != 1 || s.Freeze[0].Name != "January exams" {
		t.Errorf("site = mask %v, freeze %+v", s.MaskUsernames, s.Freeze)
	}
}

// Freeze windows are whole days where the time changes at midnight too: in
// America/Santiago 2026-09-06 begins at 01:00 (-03), midnight being skipped, and a
// window until 2026-09-05 covers that day's last hour (it lost it before).
func TestFreezeWindowsAcrossDST(t *testing.T) {
	src := lines(
		"sites:",
		"  a:",
		"    url: https://a.example",
		"    token_env: A",
		"    timezone: America/Santiago",
		"    freeze:",
		"      - {name: Before, from: 2026-09-01, until: 2026-09-05}",
		"      - {name: From, from: 2026-09-06, until: 2026-09-06}",
		"      - {name: Autumn, from: 2026-04-04, until: 2026-04-04}",
	)
	c, ds := Parse("enrolctl.yaml", []byte(src))
	if len(ds) != 0 {
		t.Fatal(ds)
	}
	s := c.Sites[0]
	utc := func(s string) time.Time {
		t0, err := time.Parse(time.RFC3339, s)
		if err != nil {
			t.Fatal(err)
		}
		return t0
	}
	tests := []struct {
		at   string
		want string
	}{
		{"2026-09-06T03:30:00Z", "Before"}, // 23:30 -04 on the 5th
		{"2026-09-06T03:59:00Z", "Before"},
		{"2026-09-06T04:00:00Z", "From"}, // 01:00 -03 on the 6th, its first instant
		{"2026-09-07T02:59:00Z", "From"}, // 23:59 -03
		{"2026-09-07T03:00:00Z", ""},
		{"2026-04-04T02:59:00Z", ""},       // 23:59 -03 on the 3rd
		{"2026-04-04T03:00:00Z", "Autumn"}, // midnight -03
		{"2026-04-05T03:59:00Z", "Autumn"}, // the second 23:59 (-04): a 25-hour day
		{"2026-04-05T04:00:00Z", ""},
	}
	for _, tt := range tests {
		w, ok := s.ActiveFreeze(utc(tt.at))
		if got := map[bool]string{true: w.Name}[ok]; got != tt.want {
			t.Errorf("at %s: window %q, want %q", tt.at, got, tt.want)
		}
	}
}
