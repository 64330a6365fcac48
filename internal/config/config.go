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
//   - Site.Token(dir, getenv): the site's token, from its environment variable or file;
//     Site.ReadToken the read-only token commands that only read use when the site
//     names one (read_token_env or read_token_file), else the same token.
package config

import (
	"cmp"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/enrolctl/enrolctl/internal/diag"
	"github.com/enrolctl/enrolctl/internal/safefile"
	"github.com/enrolctl/enrolctl/internal/tree"
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
	// ReadTokenEnv and ReadTokenFile are the same for a token of the read-only
	// enrolctl_read service, which every command that never writes uses; both "" when
	// the site has one token for everything.
	ReadTokenEnv, ReadTokenFile string
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
	// SkipUnknownUsers (unknown_users: skip) plans the rest when specs list users the
	// site does not have yet, warning about each; false (error, the default) stops.
	SkipUnknownUsers bool
	// MaskUsernames hides usernames in merge-request comments (default true; see
	// docs/ci.md). Freeze lists the periods during which apply refuses (review.go).
	MaskUsernames bool
	Freeze        []FreezeWindow

	Pos diag.Pos
}

// Defaults are values every site takes unless it sets its own.
type Defaults struct {
	Timezone         string
	SkipUnknownUsers *bool // nil: not said
	Roles            []string
	MaxRemovals      *int
	MaxShare         *float64
	MaxSiteRemovals  *int
}

// Config is a repository configuration.
type Config struct {
	// File is the configuration file as found (relative to Load's folder); "" when
	// there is none and the implicit sandbox site is used.
	File string
	// Dir is the configuration's folder (relative to Load's folder): where enrolctl
	// keeps its state, .enrolctl/ (the sandbox, the default audit log). For the
	// implicit configuration, the folder holding specs/.
	Dir      string
	Sites    []*Site // sorted by name
	Defaults Defaults

	review reviewDefaults
}

// Implicit is the configuration used without a file: one sandbox site whose specs
// are in ./specs and whose time zone is Europe/Paris.
func Implicit() *Config { return implicitAt(".") }

// implicitAt is the implicit configuration of the folder root (relative to Load's).
func implicitAt(root string) *Config {
	loc, err := time.LoadLocation(SandboxTimezone)
	if err != nil {
		loc = time.UTC // no tz database: keep going rather than fail
	}
	return &Config{Dir: root, Sites: []*Site{{
		Name: SandboxSite, Timezone: SandboxTimezone, Location: loc,
		Specs: DefaultSpecs, SpecsDir: filepath.Join(root, DefaultSpecs), Sandbox: true, MaskUsernames: true,
	}}}
}

// Load reads the configuration. file, when given, is the path to it (relative to dir
// unless absolute) and must exist; otherwise dir and the folders above it are searched
// for Names (Find), and without any the implicit sandbox configuration of the folder
// holding specs/ is returned. Diagnostic paths, and every path of the configuration,
// are relative to dir (../enrolctl.yaml when found in the parent) unless absolute.
func Load(dir, file string) (*Config, diag.Diagnostics) {
	display := file
	if file == "" {
		at, found := Find(dir)
		switch len(found) {
		case 0:
			return implicitAt(implicitRoot(dir)), nil
		case 1:
			display = filepath.Join(at, found[0])
		default:
			return nil, diag.Diagnostics{diag.Errorf(diag.Pos{File: filepath.Join(at, found[1])}, "both %s and %s exist; keep one configuration file", filepath.Join(at, found[0]), filepath.Join(at, found[1]))}
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
	c := &Config{File: file, Dir: filepath.Dir(file)}
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
			c.Defaults.SkipUnknownUsers = unknownUsers(d)
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
			s.Specs = cmp.Or(s.Specs, filepath.ToSlash(filepath.Join(DefaultSpecs, s.Name)))
		}
	}
	for _, s := range c.Sites {
		s.Specs = cmp.Or(s.Specs, DefaultSpecs)
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
	if !checkTokenSource(o, s.Name, "token_env", "token_file", env, tokFile) && !env.Set && !tokFile.Set && hasURL && tf == nil && !s.Sandbox {
		o.Errorf(o.N.Pos, "site %q: say where its token is: token_env (an environment variable) or token_file", s.Name)
	}
	s.TokenEnv = env.V
	if tokFile.Set {
		s.TokenFile = expandPath(file, tokFile, "token_file", ds)
	}
	renv, rfile := o.String("read_token_env"), o.String("read_token_file")
	switch {
	case checkTokenSource(o, s.Name, "read_token_env", "read_token_file", renv, rfile):
	case (renv.Set || rfile.Set) && s.Sandbox:
		o.Errorf(cmp.Or(renv, rfile).Pos, "site %q: a sandbox site has no token", s.Name)
	case (renv.Set && renv.V == env.V) || (rfile.Set && rfile.V == tokFile.V):
		// One token for both is what leaving the read token out means; naming it twice
		// suggests the read token was meant and forgotten.
		o.Errorf(cmp.Or(renv, rfile).Pos, "site %q: the read token is the token apply writes with; give read_token_env or read_token_file a token of the enrolctl_read service, or leave them out", s.Name)
	}
	s.ReadTokenEnv = renv.V
	if rfile.Set {
		s.ReadTokenFile = expandPath(file, rfile, "read_token_file", ds)
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
	if skip := cmp.Or(unknownUsers(o), c.Defaults.SkipUnknownUsers); skip != nil {
		s.SkipUnknownUsers = *skip
	}
	c.readReviewSite(o, s, ds)
	o.Done()
	return s
}

// checkTokenSource checks a pair of token fields (token_env and token_file, or the read
// token's): not both, and an environment variable's name rather than a token. It
// reports whether it found an error. The value is never repeated: it may be a token.
func checkTokenSource(o *tree.Obj, site, envField, fileField string, env, file tree.Str) bool {
	switch {
	case env.Set && file.Set:
		o.Errorf(file.Pos, "site %q: give %s or %s, not both", site, envField, fileField)
	case env.Set && tokenLike.MatchString(env.V):
		o.Errorf(env.Pos, "site %q: %s names an environment variable, and this looks like a token itself; tokens are never written in files", site, envField)
	case env.Set && !envName.MatchString(env.V):
		o.Errorf(env.Pos, "site %q: %s must be the name of an environment variable (letters, digits and _)", site, envField)
	default:
		return false
	}
	return true
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

// unknownUsers reads unknown_users: error (the default) or skip; nil when absent.
func unknownUsers(o *tree.Obj) *bool {
	v := o.String("unknown_users")
	if !v.Set {
		return nil
	}
	skip := v.V == "skip"
	if !skip && v.V != "error" {
		o.Errorf(v.Pos, "unknown_users: want error (the default: a user the site does not have stops the plan) or skip (plan the rest, warning about each such user)")
	}
	return &skip
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
	where := cmp.Or(c.File, "the configuration")
	switch {
	case name != "":
		return nil, diag.Errorf(diag.Pos{}, "unknown site %q in %s (sites: %s)", name, where, strings.Join(names, ", ")).WithSuggestion(diag.Suggest(name, names))
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
	if s.TokenEnv == "" && s.TokenFile == "" {
		return "", fmt.Errorf("site %q has no token_env nor token_file", s.Name)
	}
	return s.resolveToken(dir, getenv, s.TokenEnv, "token_env", s.TokenFile, "token_file", "the web service token")
}

// HasReadToken reports whether the site names a read-only token.
func (s *Site) HasReadToken() bool { return s.ReadTokenEnv != "" || s.ReadTokenFile != "" }

// ReadToken returns the token of a command that only reads: the site's read-only token
// when it names one, else its token. A read token named but missing is an error, never
// a fallback to the token that writes: a plan job whose read token is lost must stop,
// not quietly hold (or look for) the one that can unenrol a site.
func (s *Site) ReadToken(dir string, getenv func(string) string) (string, error) {
	if !s.HasReadToken() {
		return s.Token(dir, getenv)
	}
	return s.resolveToken(dir, getenv, s.ReadTokenEnv, "read_token_env", s.ReadTokenFile, "read_token_file",
		"the read-only token (a token of the enrolctl_read service)")
}

// resolveToken reads a token from the environment variable env or the file file.
func (s *Site) resolveToken(dir string, getenv func(string) string, env, envField, file, fileField, what string) (string, error) {
	if env != "" {
		t := strings.TrimSpace(getenv(env))
		if t == "" {
			return "", fmt.Errorf("site %q: the environment variable %s is empty or not set; it must hold %s", s.Name, env, what)
		}
		return t, nil
	}
	p := file
	if !filepath.IsAbs(p) {
		p = filepath.Join(dir, p)
	}
	b, err := safefile.Read(p, maxTokenFileSize, "token file")
	if err != nil {
		return "", fmt.Errorf("site %q: cannot read %s %s: %v", s.Name, fileField, file, err)
	}
	t, _, _ := strings.Cut(string(b), "\n")
	if t = strings.TrimSpace(t); t == "" {
		return "", fmt.Errorf("site %q: %s %s is empty", s.Name, fileField, file)
	}
	return t, nil
}

// maxConfigSize and maxTokenFileSize cap what is read of the configuration and of a
// token file: both are a few lines, and a FIFO or /dev/zero named there must not hang
// or exhaust enrolctl.
const (
	maxConfigSize    = 1 << 20
	maxTokenFileSize = 64 << 10
)
