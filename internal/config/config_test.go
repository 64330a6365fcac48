package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

func lines(s ...string) string { return strings.Join(s, "\n") + "\n" }

func errs(t *testing.T, file, src string) []string {
	t.Helper()
	_, ds := Parse(file, []byte(src))
	var out []string
	for _, d := range ds {
		out = append(out, d.Error())
	}
	return out
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		name, file, src string
		want            []string
	}{
		{"literal token", "enrolctl.yaml", lines("sites:", "  prod:", "    url: https://moodle.example.edu", "    token: 0123456789abcdef0123456789abcdef", "    timezone: Europe/Paris"),
			[]string{`enrolctl.yaml:4:5: site "prod": tokens are never written in files; use token_env (the name of an environment variable) or token_file`}},
		{"token in url", "enrolctl.yaml", lines("sites:", "  prod:", "    url: https://moodle.example.edu/?wstoken=abc", "    token_env: T", "    timezone: Europe/Paris"),
			[]string{`enrolctl.yaml:3:10: site "prod": the url must not carry credentials; tokens are never written in files (use token_env or token_file)`}},
		{"token as env name", "enrolctl.yaml", lines("sites:", "  prod:", "    url: https://moodle.example.edu", "    token_env: 0123456789abcdef0123456789abcdef", "    timezone: Europe/Paris"),
			[]string{`enrolctl.yaml:4:16: site "prod": token_env names an environment variable, and this looks like a token itself; tokens are never written in files`}},
		{"unknown field", "enrolctl.yaml", lines("sites:", "  prod:", "    url: https://moodle.example.edu", "    token_env: T", "    timezone: Europe/Paris", "    spec: moodle"),
			[]string{`enrolctl.yaml:6:5: unknown field "spec" in site "prod" (did you mean "specs"?)`}},
		{"missing timezone and token", "enrolctl.yaml", lines("sites:", "  prod:", "    url: https://moodle.example.edu"),
			[]string{
				`enrolctl.yaml:3:5: site "prod": say where its token is: token_env (an environment variable) or token_file`,
				`enrolctl.yaml:3:5: site "prod": timezone is missing: dates in specs are whole days in the site's time zone (for example timezone: Europe/Paris, as in Moodle's Site administration > Location settings)`,
			}},
		{"bad timezone", "enrolctl.yaml", lines("sites:", "  prod:", "    url: https://moodle.example.edu", "    token_env: T", "    timezone: Europe/Pariss"),
			[]string{`enrolctl.yaml:5:15: unknown time zone "Europe/Pariss" (use an IANA name such as Europe/Paris)`}},
		{"bad url", "enrolctl.yaml", lines("sites:", "  prod:", "    url: moodle.example.edu", "    token_env: T", "    timezone: UTC"),
			[]string{`enrolctl.yaml:3:10: site "prod": url must be the site's address, such as https://moodle.example.edu`}},
		{"no sites", "enrolctl.yaml", lines("defaults:", "  timezone: UTC"),
			[]string{`enrolctl.yaml:1:1: configuration: missing required field "sites"`}},
		{"hcl literal token", "enrolctl.hcl", lines(`site "prod" {`, `  url = "https://moodle.example.edu"`, `  token = "abc"`, `  timezone = "UTC"`, `}`),
			[]string{`enrolctl.hcl:3:3: site "prod": tokens are never written in files; use token_env (the name of an environment variable) or token_file`}},
		{"read token env and file", "enrolctl.yaml", lines("sites:", "  prod:", "    url: https://moodle.example.edu", "    token_env: T", "    read_token_env: R", "    read_token_file: r.token", "    timezone: UTC"),
			[]string{`enrolctl.yaml:6:22: site "prod": give read_token_env or read_token_file, not both`}},
		{"read token as env name", "enrolctl.yaml", lines("sites:", "  prod:", "    url: https://moodle.example.edu", "    token_env: T", "    read_token_env: 0123456789abcdef0123456789abcdef", "    timezone: UTC"),
			[]string{`enrolctl.yaml:5:21: site "prod": read_token_env names an environment variable, and this looks like a token itself; tokens are never written in files`}},
		{"read token env not a name", "enrolctl.yaml", lines("sites:", "  prod:", "    url: https://moodle.example.edu", "    token_env: T", "    read_token_env: $READ", "    timezone: UTC"),
			[]string{`enrolctl.yaml:5:21: site "prod": read_token_env must be the name of an environment variable (letters, digits and _)`}},
		{"read token is the write token", "enrolctl.yaml", lines("sites:", "  prod:", "    url: https://moodle.example.edu", "    token_env: T", "    read_token_env: T", "    timezone: UTC"),
			[]string{`enrolctl.yaml:5:21: site "prod": the read token is the token apply writes with; give read_token_env or read_token_file a token of the enrolctl_read service, or leave them out`}},
		{"read token file is the token file", "enrolctl.yaml", lines("sites:", "  prod:", "    url: https://moodle.example.edu", "    token_file: t.token", "    read_token_file: t.token", "    timezone: UTC"),
			[]string{`enrolctl.yaml:5:22: site "prod": the read token is the token apply writes with; give read_token_env or read_token_file a token of the enrolctl_read service, or leave them out`}},
		{"read token alone", "enrolctl.yaml", lines("sites:", "  prod:", "    url: https://moodle.example.edu", "    read_token_env: R", "    timezone: UTC"),
			[]string{`enrolctl.yaml:3:5: site "prod": say where its token is: token_env (an environment variable) or token_file`}},
		{"read token on the sandbox", "enrolctl.yaml", lines("sites:", "  try:", "    sandbox: true", "    read_token_env: R"),
			[]string{`enrolctl.yaml:4:21: site "try": a sandbox site has no token`}},
		{"read token in defaults", "enrolctl.yaml", lines("defaults:", "  timezone: UTC", "  read_token_env: R", "sites:", "  prod:", "    url: https://moodle.example.edu", "    token_env: T"),
			[]string{`enrolctl.yaml:3:3: unknown field "read_token_env" in defaults`}},
		{"hcl read token as env name", "enrolctl.hcl", lines(`site "prod" {`, `  url = "https://moodle.example.edu"`, `  token_env = "T"`, `  read_token_env = "0123456789abcdef0123456789abcdef"`, `  timezone = "UTC"`, `}`),
			[]string{`enrolctl.hcl:4:20: site "prod": read_token_env names an environment variable, and this looks like a token itself; tokens are never written in files`}},
		{"hcl unknown block", "enrolctl.hcl", lines(`sit "prod" {}`),
			[]string{`enrolctl.hcl:1:1: configuration: missing required field "site"`, `enrolctl.hcl:1:1: unknown block "sit" in configuration (did you mean "site"?)`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := errs(t, tt.file, tt.src)
			if d := cmp.Diff(tt.want, got); d != "" {
				t.Errorf("(-want +got):\n%s", d)
			}
			for _, g := range got {
				if strings.Contains(g, "0123456789abcdef") || strings.Contains(g, "abc\"") {
					t.Errorf("a diagnostic repeats the token: %s", g)
				}
			}
		})
	}
}

func TestParseSites(t *testing.T) {
	yamlSrc := lines(
		"defaults:",
		"  timezone: Europe/Paris",
		"  roles: [tutor]",
		"  max_removals: 25",
		"sites:",
		"  records:",
		"    url: https://records.example.edu/",
		"    token_env: RECORDS_TOKEN",
		"    read_token_env: RECORDS_READ_TOKEN",
		"  cohorts:",
		"    url: https://cohorts.example.edu",
		"    token_file: secrets/cohorts.token",
		"    read_token_file: ~/cohorts-read.token",
		"    timezone: America/Montreal",
		"    specs: moodle/cohorts",
		"    roles: [observer]",
		"    max_share: 0.5",
	)
	hclSrc := lines(
		`defaults {`,
		`  timezone     = "Europe/Paris"`,
		`  roles        = ["tutor"]`,
		`  max_removals = 25`,
		`}`,
		`site "records" {`,
		`  url       = "https://records.example.edu/"`,
		`  token_env = "RECORDS_TOKEN"`,
		`  read_token_env = "RECORDS_READ_TOKEN"`,
		`}`,
		`site "cohorts" {`,
		`  url        = "https://cohorts.example.edu"`,
		`  token_file = "secrets/cohorts.token"`,
		`  read_token_file = "~/cohorts-read.token"`,
		`  timezone   = "America/Montreal"`,
		`  specs      = "moodle/cohorts"`,
		`  roles      = ["observer"]`,
		`  max_share  = 0.5`,
		`}`,
	)
	want := []*Site{
		{Name: "cohorts", URL: "https://cohorts.example.edu", TokenFile: filepath.Join("repo", "secrets", "cohorts.token"), ReadTokenFile: "/home/ada/cohorts-read.token", Timezone: "America/Montreal",
			Specs: "moodle/cohorts", SpecsDir: filepath.Join("repo", "moodle", "cohorts"), Roles: []string{"tutor", "observer"}, MaxRemovals: ptr(25), MaxShare: ptr(0.5), MaskUsernames: true},
		{Name: "records", URL: "https://records.example.edu", TokenEnv: "RECORDS_TOKEN", ReadTokenEnv: "RECORDS_READ_TOKEN", Timezone: "Europe/Paris",
			Specs: "specs/records", SpecsDir: filepath.Join("repo", "specs", "records"), Roles: []string{"tutor"}, MaxRemovals: ptr(25), MaskUsernames: true},
	}
	homeDir = func() (string, error) { return "/home/ada", nil }
	t.Cleanup(func() { homeDir = os.UserHomeDir })
	for _, file := range []string{"repo/enrolctl.yaml", "repo/enrolctl.hcl"} {
		src := yamlSrc
		if strings.HasSuffix(file, ".hcl") {
			src = hclSrc
		}
		c, ds := Parse(file, []byte(src))
		if len(ds) != 0 {
			t.Fatalf("%s: %v", file, ds)
		}
		if d := cmp.Diff(want, c.Sites, cmpopts.IgnoreFields(Site{}, "Location", "Pos")); d != "" {
			t.Errorf("%s: sites (-want +got):\n%s", file, d)
		}
		if c.Sites[0].Location.String() != "America/Montreal" {
			t.Errorf("%s: location %v", file, c.Sites[0].Location)
		}
	}
}

func TestLoadAndSelect(t *testing.T) {
	dir := t.TempDir()
	c, ds := Load(dir, "")
	if len(ds) != 0 {
		t.Fatal(ds)
	}
	s, err := c.Select("")
	if err != nil || s.Name != SandboxSite || !s.Sandbox || s.SpecsDir != "specs" || s.Location.String() != "Europe/Paris" {
		t.Fatalf("implicit site: %+v, %v", s, err)
	}
	src := lines("sites:", "  prod:", "    url: https://a.example.edu", "    token_env: A", "    timezone: UTC", "  staging:", "    url: https://b.example.edu", "    token_file: tok", "    timezone: UTC")
	if err := os.WriteFile(filepath.Join(dir, "enrolctl.yaml"), []byte(src), 0o600); err != nil {
		t.Fatal(err)
	}
	c, ds = Load(dir, "")
	if len(ds) != 0 || c.File != "enrolctl.yaml" {
		t.Fatal(c, ds)
	}
	if _, err := c.Select(""); err == nil || err.Error() != "enrolctl.yaml has several sites (prod, staging): choose one with --site NAME" {
		t.Errorf("Select(\"\") error = %v", err)
	}
	if _, err := c.Select("stagin"); err == nil || err.Error() != `unknown site "stagin" in enrolctl.yaml (sites: prod, staging) (did you mean "staging"?)` {
		t.Errorf("Select(stagin) error = %v", err)
	}
	s, err = c.Select("staging")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Token(dir, os.Getenv); err == nil || !strings.Contains(err.Error(), "cannot read token_file tok") {
		t.Errorf("missing token file: %v", err)
	}
	if err := os.WriteFile(filepath.Join(dir, "tok"), []byte("secret-token\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if tok, err := s.Token(dir, os.Getenv); err != nil || tok != "secret-token" {
		t.Errorf("Token = %q, %v", tok, err)
	}
	prod, _ := c.Select("prod")
	if _, err := prod.Token(dir, func(string) string { return "" }); err == nil || !strings.Contains(err.Error(), "environment variable A is empty") {
		t.Errorf("empty env: %v", err)
	}
	if tok, _ := prod.Token(dir, func(k string) string { return map[string]string{"A": " t0k "}[k] }); tok != "t0k" {
		t.Errorf("env token = %q", tok)
	}
	if err := os.WriteFile(filepath.Join(dir, "enrolctl.hcl"), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, ds := Load(dir, ""); len(ds) != 1 || ds[0].Error() != "enrolctl.hcl: both enrolctl.yaml and enrolctl.hcl exist; keep one configuration file" {
		t.Errorf("two files: %v", ds)
	}
}

// FuzzParse checks that no configuration text makes Parse panic, and that a literal
// token is never repeated in a diagnostic.
func FuzzParse(f *testing.F) {
	f.Add("enrolctl.yaml", "sites:\n  prod:\n    url: https://a.example.edu\n    token: SECRETSECRET\n    timezone: UTC\n")
	f.Add("enrolctl.hcl", "site \"prod\" {\n  url = \"https://a.example.edu\"\n  token = \"SECRETSECRET\"\n}\n")
	f.Add("enrolctl.yaml", "defaults: {max_share: 2}\nsites: []\n")
	f.Add("enrolctl.yaml", "sites:\n  prod:\n    url: https://a.example.edu\n    token_env: T\n    read_token_env: SECRETSECRET-\n    timezone: UTC\n")
	f.Fuzz(func(t *testing.T, name, src string) {
		if !strings.HasSuffix(name, ".hcl") {
			name = "enrolctl.yaml"
		}
		_, ds := Parse(name, []byte(src))
		for _, d := range ds {
			if strings.Contains(src, "SECRETSECRET") && strings.Contains(d.Error(), "SECRETSECRET") && strings.Contains(d.Message, "token") {
				t.Fatalf("token repeated: %s", d.Error())
			}
		}
	})
}

func ptr[T any](v T) *T { return &v }
func TestPathsExpandHome(t *testing.T) {
	homeDir = func() (string, error) { return "/home/ada", nil }
	t.Cleanup(func() { homeDir = os.UserHomeDir })
	c, ds := Parse("conf/enrolctl.yaml", []byte(lines("sites:", "  prod:", "    url: https://moodle.example.edu",
		"    token_file: ~/.config/enrolctl/prod.token", "    audit_log: logs/audit.jsonl", "    timezone: UTC",
		"  test:", "    url: https://test.example.edu", "    token_file: secrets/test.token", "    audit_log: ~/audit.log", "    timezone: UTC")))
	if ds.HasErrors() {
		t.Fatal(ds)
	}
	got := map[string][2]string{}
	for _, s := range c.Sites {
		got[s.Name] = [2]string{s.TokenFile, s.AuditLog}
	}
	want := map[string][2]string{
		"prod": {"/home/ada/.config/enrolctl/prod.token", filepath.Join("conf", "logs", "audit.jsonl")},
		"test": {filepath.Join("conf", "secrets", "test.token"), "/home/ada/audit.log"},
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("paths (-want +got):\n%s", d)
	}
	_, ds = Parse("enrolctl.yaml", []byte(lines("sites:", "  prod:", "    url: https://moodle.example.edu",
		"    token_file: ~bob/prod.token", "    timezone: UTC")))
	if got := ds.Error(); got != `enrolctl.yaml:4:17: token_file: ~user paths are not supported; write ~/... or the full path` {
		t.Errorf("~user: %s", got)
	}
}

// Commands that only read use the read token when the site names one; a read token
// named but missing is an error naming where it was looked for, never a fallback to
// the token that writes, and never a message carrying a token.
func TestReadToken(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "read.token"), []byte("r-file-secret\nignored\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{"WRITE": "w-secret", "READ": " r-secret "}
	getenv := func(k string) string { return env[k] }
	c, ds := Parse("enrolctl.yaml", []byte(lines("sites:",
		"  both:", "    url: https://a.example.edu", "    token_env: WRITE", "    read_token_env: READ", "    timezone: UTC",
		"  lost:", "    url: https://b.example.edu", "    token_env: WRITE", "    read_token_env: LOST", "    timezone: UTC",
		"  file:", "    url: https://c.example.edu", "    token_env: WRITE", "    read_token_file: read.token", "    timezone: UTC",
		"  nofile:", "    url: https://d.example.edu", "    token_env: WRITE", "    read_token_file: none.token", "    timezone: UTC",
		"  one:", "    url: https://e.example.edu", "    token_env: WRITE", "    timezone: UTC")))
	if ds.HasErrors() {
		t.Fatal(ds)
	}
	tests := []struct {
		site, want, err string
		has             bool
	}{
		{"both", "r-secret", "", true},
		{"lost", "", `site "lost": the environment variable LOST is empty or not set; it must hold the read-only token (a token of the enrolctl_read service)`, true},
		{"file", "r-file-secret", "", true},
		{"nofile", "", `site "nofile": cannot read read_token_file none.token:`, true},
		{"one", "w-secret", "", false},
	}
	for _, tt := range tests {
		s, err := c.Select(tt.site)
		if err != nil {
			t.Fatal(err)
		}
		if s.HasReadToken() != tt.has {
			t.Errorf("%s: HasReadToken = %v", tt.site, !tt.has)
		}
		got, err := s.ReadToken(dir, getenv)
		if tt.err != "" {
			if err == nil || !strings.HasPrefix(err.Error(), tt.err) || strings.Contains(err.Error(), "secret") {
				t.Errorf("%s: ReadToken error = %v, want %q", tt.site, err, tt.err)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("%s: ReadToken = %q, %v; want %q", tt.site, got, err, tt.want)
		}
		if w, err := s.Token(dir, getenv); err != nil || w != "w-secret" {
			t.Errorf("%s: Token = %q, %v", tt.site, w, err)
		}
	}
}
