// Package config reads enrolctl's repository configuration, enrolctl.yaml or
// enrolctl.hcl: the Moodle sites specs are applied to and the defaults they share.
// It checks the file as strictly as specs are checked (file:line:col diagnostics with
// a did-you-mean) and refuses tokens written in the file.
//
// Entry points:
//   - Load(dir, file): find and read the configuration; without one, the implicit
//     sandbox site.
//   - Parse(file, src): read configuration text.
//   - Config.Select(name): the site a command works on (--site, or the only one).
//   - Site.Token(getenv): the site's token, from its environment variable or file.
package config

import (
	"cmp"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/enrolctl/enrolctl/internal/safefile"
	"github.com/enrolctl/enrolctl/internal/spec/diag"
	"github.com/enrolctl/enrolctl/internal/spec/tree"
)

// Names are the configuration file names looked for, in order.
var Names = []string{"enrolctl.yaml", "enrolctl.yml", "enrolctl.hcl"}

const (
	// SandboxSite is the name of the site used when there is no configuration.
	SandboxSite = "sandbox"
	// SandboxTimezone is the sandbox site's time zone.
	SandboxTimezone = "Europe/Paris"
	// DefaultSpecs is the spec folder of a lone site.
	DefaultSpecs = "specs"
)

// Site is one Moodle site specs are applied to.
type Site struct {
	Name string
	// URL is the site's root (https://moodle.example.edu); empty for the sandbox.
	URL string
	// TokenEnv names the environment variable holding the web service token;
	// TokenFile is a file holding it (relative to the configuration's folder).
	TokenEnv, TokenFile string
	// Timezone is the site's time zone name and Location the zone itself: a date in a
	// spec is that whole day there.
	Timezone string
	Location *time.Location
	// Specs is the spec folder as written; SpecsDir is where it is, relative to the
	// folder given to Load (or absolute when written so).
	Specs, SpecsDir string
	// Roles are role shortnames the site has besides Moodle's standard ones.
	Roles []string
	// MaxRemovals and MaxShare are apply's removal guard per course, MaxSiteRemovals
	// across the courses of one apply; nil when not configured (apply's default), 0
	// meaning none allowed.
	MaxRemovals     *int
	MaxShare        *float64
	MaxSiteRemovals *int
	// PlanSigningKeyEnv names the environment variable holding the key that signs
	// saved plans (plan -out) and that apply checks them with; "" when plans are not
	// signed. The key is never read from a file of the repository.
	PlanSigningKeyEnv string
	// AuditLog is the file apply appends its audit records to (relative to Load's folder
	// unless absolute; "~/" is the home folder); "" means the default, .enrolctl/audit.log.
	AuditLog string
	// Sandbox is set for the implicit site, which runs against the in-memory Moodle.
	Sandbox bool
	// MaskUsernames hides usernames in merge-request comments (default true; see
	// docs/ci.md). Freeze lists the periods during which apply refuses (review.go).
	MaskUsernames bool
	Freeze        []FreezeWindow

	Pos diag.Pos
}

// Defaults are values every site takes unless it sets its own.
type Defaults struct {
	Timezone        string
	Roles           []string
	MaxRemovals     *int
	MaxShare        *float64
	MaxSiteRemovals *int
}

// Config is a repository configuration.
type Config struct {
	// File is the configuration file as found (relative to Load's folder); "" when
	// there is none and the implicit sandbox site is used.
	File     string
	Sites    []*Site // sorted by name
	Defaults Defaults

	review reviewDefaults
}

// Implicit is the configuration used without a file: one sandbox site whose specs
// are in ./specs and whose time zone is Europe/Paris.
func Implicit() *Config {
	loc, err := time.LoadLocation(SandboxTimezone)
	if err != nil {
		loc = time.UTC // no tz database: keep going rather than fail
	}
	return &Config{Sites: []*Site{{
		Name: SandboxSite, Timezone: SandboxTimezone, Location: loc,
		Specs: DefaultSpecs, SpecsDir: DefaultSpecs, Sandbox: true, MaskUsernames: true,
	}}}
}

// Load reads the configuration. file, when given, is the path to it (relative to dir
// unless absolute) and must exist; otherwise dir is searched for Names, and without
// any the Implicit configuration is returned. Diagnostic paths are file as given, or
// the name found in dir.
func Load(dir, file string) (*Config, diag.Diagnostics) {
	display := file
	if file == "" {
		var found []string
		for _, n := range Names {
			if _, err := os.Stat(filepath.Join(dir, n)); err == nil {
				found = append(found, n)
			}
		}
		switch len(found) {
		case 0:
			return Implicit(), nil
		case 1:
			display = found[0]
		default:
			return nil, diag.Diagnostics{diag.Errorf(diag.Pos{File: found[1]}, "both %s and %s exist; keep one configuration file", found[0], found[1])}
		}
	}
	full := display
	if !filepath.IsAbs(full) {
		full = filepath.Join(dir, full)
	}
	src, err := safefile.Read(full, maxConfigSize, "configuration file")
	if err != nil {
		return nil, diag.Diagnostics{diag.Errorf(diag.Pos{File: display}, "cannot read the configuration: %v", err)}
	}
	return Parse(display, src)
}

var hclRules = map[string]tree.BlockRule{
	"site":     {Field: "sites", Map: true},
	"defaults": {Field: "defaults"},
}

// Parse reads configuration text; file (its path) decides the syntax (.hcl or YAML)
// and is the base of relative spec folders and token files.
func Parse(file string, src []byte) (*Config, diag.Diagnostics) {
	var ds diag.Diagnostics
	var root *tree.Node
	if strings.EqualFold(filepath.Ext(file), ".hcl") {
		root, ds = tree.ParseHCL(file, src, hclRules)
	} else {
		var docs []*tree.Node
		docs, ds = tree.ParseYAML(file, src)
		if len(docs) > 1 {
			ds = append(ds, diag.Errorf(docs[1].Pos, "the configuration is one YAML document"))
		}
		if len(docs) > 0 {
			root = docs[0]
		}
	}
	if root == nil {
		if !ds.HasErrors() {
			ds = append(ds, diag.Errorf(diag.Pos{File: file}, "empty configuration: declare at least one site under sites:"))
		}
		return nil, ds.Sort()
	}
	c := &Config{File: file}
	o := tree.ReadObject(root, "configuration", &ds)
	if o == nil {
		return nil, ds.Sort()
	}
	if f := o.Get("defaults"); f != nil {
		if d := tree.ReadObject(f.Value, "defaults", &ds); d != nil {
			c.Defaults.Timezone = d.String("timezone").V
			if tz := d.String("timezone"); tz.Set {
				if _, err := time.LoadLocation(tz.V); err != nil {
					d.Errorf(tz.Pos, "unknown time zone %q (use an IANA name such as Europe/Paris)", tz.V)
				}
			}
			c.Defaults.Roles = strs(d.Strings("roles"))
			c.Defaults.MaxRemovals = optInt(d, "max_removals")
			c.Defaults.MaxSiteRemovals = optInt(d, "max_site_removals")
			c.Defaults.MaxShare = share(d, &ds)
			readReviewDefaults(d, c)
			d.Done()
		}
	}
	sitesField := o.Require("sites")
	o.Done()
	if sitesField != nil {
		so := tree.ReadObject(sitesField.Value, "sites", &ds)
		if so != nil {
			for _, f := range so.N.Fields {
				so.Known(f.Key)
			}
			for _, f := range so.N.Fields {
				if s := c.site(f, file, &ds); s != nil {
					c.Sites = append(c.Sites, s)
				}
			}
			if len(so.N.Fields) == 0 {
				ds = append(ds, diag.Errorf(sitesField.Value.Pos, "sites: declare at least one site"))
			}
		}
	}
	slices.SortFunc(c.Sites, func(a, b *Site) int { return strings.Compare(a.Name, b.Name) })
	if len(c.Sites) > 1 {
		for _, s := range c.Sites {
			if s.Specs == "" {
				s.Specs = filepath.ToSlash(filepath.Join(DefaultSpecs, s.Name))
			}
		}
	}
	for _, s := range c.Sites {
		if s.Specs == "" {
			s.Specs = DefaultSpecs
		}
		s.SpecsDir = relTo(file, s.Specs)
	}
	return c, ds.Sort()
}

// homeDir is the user's home folder, for "~/" in paths (a variable for tests).
var homeDir = os.UserHomeDir

// expandPath resolves a path field: "~/..." (or "~") in the home folder, like a shell
// does, an absolute path as is, anything else against the configuration's folder.
func expandPath(configFile string, v tree.Str, field string, ds *diag.Diagnostics) string {
	p := v.V
	if p == "~" || strings.HasPrefix(p, "~/") {
		home, err := homeDir()
		if err != nil || home == "" {
			*ds = append(*ds, diag.Errorf(v.Pos, "%s: cannot expand ~: the home folder is not known (%v); write the full path", field, err))
			return p
		}
		return filepath.Join(home, filepath.FromSlash(strings.TrimPrefix(p, "~")))
	}
	if strings.HasPrefix(p, "~") {
		*ds = append(*ds, diag.Errorf(v.Pos, "%s: ~user paths are not supported; write ~/... or the full path", field))
		return p
	}
	return relTo(configFile, p)
}

// relTo resolves p against the folder of the configuration file.
func relTo(configFile, p string) string {
	p = filepath.FromSlash(p)
	if filepath.IsAbs(p) {
		return p
	}
	return filepath.Join(filepath.Dir(configFile), p)
}

var (
	siteName  = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]*$`)
	envName   = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)
	tokenLike = regexp.MustCompile(`^[0-9a-fA-F]{32}$`)
)

func (c *Config) site(f *tree.Field, file string, ds *diag.Diagnostics) *Site {
	s := &Site{Name: f.Key, Pos: f.KeyPos}
	if !siteName.MatchString(f.Key) {
		*ds = append(*ds, diag.Errorf(f.KeyPos, "site name %q: use lower-case letters, digits, - and _ (it is typed as --site NAME)", f.Key))
	}
	o := tree.ReadObject(f.Value, fmt.Sprintf("site %q", f.Key), ds)
	if o == nil {
		return nil
	}
	tf := o.Get("token")
	if tf != nil {
		// The value is never repeated: it may be a real token.
		o.Errorf(tf.KeyPos, "site %q: tokens are never written in files; use token_env (the name of an environment variable) or token_file", s.Name)
	}
	// sandbox: true is the built-in sandbox Moodle with this site's settings (freeze
	// windows, masking, limits), for trying them out without a Moodle.
	s.Sandbox = o.Bool("sandbox").V
	hasURL := o.Get("url") != nil
	var us tree.Str
	if s.Sandbox {
		us = o.String("url")
		if us.Set {
			o.Errorf(us.Pos, "site %q: a sandbox site has no url", s.Name)
		}
	} else {
		us = o.RequireString("url")
	}
	s.URL = strings.TrimRight(us.V, "/")
	if us.Set && !s.Sandbox {
		checkURL(us, s.Name, ds)
	}
	env, tokFile := o.String("token_env"), o.String("token_file")
	switch {
	case env.Set && tokFile.Set:
		o.Errorf(tokFile.Pos, "site %q: give token_env or token_file, not both", s.Name)
	case env.Set && tokenLike.MatchString(env.V):
		o.Errorf(env.Pos, "site %q: token_env names an environment variable, and this looks like a token itself; tokens are never written in files", s.Name)
	case env.Set && !envName.MatchString(env.V):
		o.Errorf(env.Pos, "site %q: token_env must be the name of an environment variable (letters, digits and _)", s.Name)
	case !env.Set && !tokFile.Set && hasURL && tf == nil && !s.Sandbox:
		o.Errorf(o.N.Pos, "site %q: say where its token is: token_env (an environment variable) or token_file", s.Name)
	}
	s.TokenEnv = env.V
	if tokFile.Set {
		s.TokenFile = expandPath(file, tokFile, "token_file", ds)
	}
	if ke := o.String("plan_signing_key_env"); ke.Set {
		if !envName.MatchString(ke.V) || tokenLike.MatchString(ke.V) {
			o.Errorf(ke.Pos, "site %q: plan_signing_key_env must be the name of an environment variable (letters, digits and _), never the key itself", s.Name)
		}
		s.PlanSigningKeyEnv = ke.V
	}
	if al := o.String("audit_log"); al.Set {
		s.AuditLog = expandPath(file, al, "audit_log", ds)
	}
	tz := o.String("timezone")
	s.Timezone = tz.V
	if !tz.Set {
		s.Timezone = c.Defaults.Timezone
	}
	if s.Timezone == "" && s.Sandbox {
		s.Timezone = SandboxTimezone
	}
	if s.Timezone == "" {
		o.Errorf(o.N.Pos, "site %q: timezone is missing: dates in specs are whole days in the site's time zone (for example timezone: Europe/Paris, as in Moodle's Site administration > Location settings)", s.Name)
	} else if loc, err := time.LoadLocation(s.Timezone); err != nil {
		if tz.Set {
			o.Errorf(tz.Pos, "unknown time zone %q (use an IANA name such as Europe/Paris)", tz.V)
		}
	} else {
		s.Location = loc
	}
	s.Specs = filepath.ToSlash(o.String("specs").V)
	s.Roles = append(slices.Clone(c.Defaults.Roles), strs(o.Strings("roles"))...)
	s.MaxRemovals = cmp.Or(optInt(o, "max_removals"), c.Defaults.MaxRemovals)
	s.MaxSiteRemovals = cmp.Or(optInt(o, "max_site_removals"), c.Defaults.MaxSiteRemovals)
	s.MaxShare = cmp.Or(share(o, ds), c.Defaults.MaxShare)
	c.readReviewSite(o, s, ds)
	o.Done()
	return s
}

func checkURL(us tree.Str, site string, ds *diag.Diagnostics) {
	p, err := url.Parse(us.V)
	switch {
	case err != nil || p.Host == "" || (p.Scheme != "https" && p.Scheme != "http"):
		*ds = append(*ds, diag.Errorf(us.Pos, "site %q: url must be the site's address, such as https://moodle.example.edu", site))
	case p.User != nil || strings.Contains(strings.ToLower(p.RawQuery), "token"):
		*ds = append(*ds, diag.Errorf(us.Pos, "site %q: the url must not carry credentials; tokens are never written in files (use token_env or token_file)", site))
	case p.RawQuery != "" || p.Fragment != "":
		*ds = append(*ds, diag.Errorf(us.Pos, "site %q: url must be the site's root address, without ?query or #fragment", site))
	}
}

func share(o *tree.Obj, ds *diag.Diagnostics) *float64 {
	f := o.Get("max_share")
	if f == nil {
		return nil
	}
	n := f.Value
	var v float64
	if n.Kind == tree.Scalar && (n.Tag == "float" || n.Tag == "int") {
		if _, err := fmt.Sscan(n.Text, &v); err == nil && v >= 0 && v <= 1 {
			return &v
		}
	}
	*ds = append(*ds, diag.Errorf(n.Pos, "max_share must be a number between 0 and 1 (0.2 = 20%% of a course's enrolments)"))
	return nil
}

// optInt reads a non-negative count that may be absent (nil); 0 is a value.
func optInt(o *tree.Obj, key string) *int {
	if v := o.Int(key); v.Set {
		return &v.V
	}
	return nil
}

func strs(ss []tree.Str) []string {
	var out []string
	for _, s := range ss {
		out = append(out, s.V)
	}
	return out
}

// Select returns the site a command works on: the one named (--site NAME), or the only
// site when there is one.
func (c *Config) Select(name string) (*Site, error) {
	var names []string
	for _, s := range c.Sites {
		names = append(names, s.Name)
		if s.Name == name {
			return s, nil
		}
	}
	where := "the configuration"
	if c.File != "" {
		where = c.File
	}
	switch {
	case name != "":
		msg := fmt.Sprintf("unknown site %q in %s (sites: %s)", name, where, strings.Join(names, ", "))
		if sug := diag.Suggest(name, names); sug != "" {
			msg += fmt.Sprintf(" (did you mean %q?)", sug)
		}
		return nil, errors.New(msg)
	case len(c.Sites) == 1:
		return c.Sites[0], nil
	default:
		return nil, fmt.Errorf("%s has several sites (%s): choose one with --site NAME", where, strings.Join(names, ", "))
	}
}

// Token returns the site's web service token: the value of its environment variable,
// or the first line of its token file (dir is Load's folder). Errors name the variable
// or file, never the token.
func (s *Site) Token(dir string, getenv func(string) string) (string, error) {
	switch {
	case s.TokenEnv != "":
		t := strings.TrimSpace(getenv(s.TokenEnv))
		if t == "" {
			return "", fmt.Errorf("site %q: the environment variable %s is empty or not set; it must hold the web service token", s.Name, s.TokenEnv)
		}
		return t, nil
	case s.TokenFile != "":
		p := s.TokenFile
		if !filepath.IsAbs(p) {
			p = filepath.Join(dir, p)
		}
		b, err := safefile.Read(p, maxTokenFileSize, "token file")
		if err != nil {
			return "", fmt.Errorf("site %q: cannot read token_file %s: %v", s.Name, s.TokenFile, err)
		}
		t, _, _ := strings.Cut(string(b), "\n")
		if t = strings.TrimSpace(t); t == "" {
			return "", fmt.Errorf("site %q: token_file %s is empty", s.Name, s.TokenFile)
		}
		return t, nil
	}
	return "", fmt.Errorf("site %q has no token_env nor token_file", s.Name)
}

// maxConfigSize and maxTokenFileSize cap what is read of the configuration and of a
// token file: both are a few lines, and a FIFO or /dev/zero named there must not hang
// or exhaust enrolctl.
const (
	maxConfigSize    = 1 << 20
	maxTokenFileSize = 64 << 10
)
