package cli

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/spf13/cobra"

	"github.com/enrolctl/enrolctl/internal/config"
	"github.com/enrolctl/enrolctl/internal/moodle"
	"github.com/enrolctl/enrolctl/internal/sandbox"
	"github.com/enrolctl/enrolctl/internal/spec"
	"github.com/enrolctl/enrolctl/internal/state"
)

// siteConn is a selected site, connected.
type siteConn struct {
	name     string
	site     *config.Site
	client   *moodle.Client
	sandbox  *sandbox.Sandbox // nil for real sites
	specsDir string           // relative to App.Dir unless absolute
	loc      *time.Location
	auditLog string
}

func (c *siteConn) describe() string {
	if c.sandbox != nil {
		return "the sandbox Moodle"
	}
	return fmt.Sprintf("site %s (%s)", c.name, c.site.URL)
}

func (c *siteConn) urlForAudit() string {
	if c.sandbox != nil {
		return "sandbox"
	}
	return c.site.URL
}

// loadConfig reads the configuration and selects the site; errors are printed as
// diagnostics.
func (a *App) loadConfig() (*config.Site, error) {
	cfg, ds := config.Load(a.Dir, a.configPath)
	if ds.HasErrors() {
		a.printDiagnostics(ds)
		return nil, errReported
	}
	return cfg.Select(a.siteName)
}

// connect selects the site and builds its client. Without a configured site it opens
// the sandbox and says so in one line.
func (a *App) connect() (*siteConn, error) {
	site, err := a.loadConfig()
	if err != nil {
		return nil, err
	}
	conn := &siteConn{name: site.Name, site: site, specsDir: site.SpecsDir, loc: site.Location,
		auditLog: filepath.Join(sandboxDir, "audit.log")}
	if site.Sandbox {
		sb, err := sandbox.Open(filepath.Join(a.Dir, sandboxDir))
		if err != nil {
			return nil, err
		}
		a.atExit = append(a.atExit, sb.Close)
		fmt.Fprintf(a.Err, "No Moodle configured: using the sandbox Moodle in %s (reset it with `enrolctl sandbox reset`).\n", a.rel(sb.Path()))
		conn.sandbox = sb
		conn.client, err = moodle.New(moodle.Config{URL: sandbox.URL, Token: sandbox.Token, HTTPClient: sb.HTTPClient()})
		return conn, err
	}
	token, err := site.Token(a.Dir, a.Getenv)
	if err != nil {
		return nil, err
	}
	conn.client, err = moodle.New(moodle.Config{URL: site.URL, Token: token})
	return conn, err
}

// loadSpecs reads the site's spec folder.
func (a *App) loadSpecs(conn *siteConn) *spec.Set {
	opts := spec.Options{Location: conn.loc, Roles: conn.site.Roles}
	if filepath.IsAbs(conn.specsDir) {
		return spec.LoadDir(conn.specsDir, opts)
	}
	// Load from the working directory so that diagnostics read specs/x.yaml:3:5.
	return spec.Load(os.DirFS(a.Dir), filepath.ToSlash(filepath.Clean(conn.specsDir)), opts)
}

// loadDesired reads the specs, merges policies over the live catalogue, and returns the
// desired state. Diagnostics are printed; errors stop the run.
func (a *App) loadDesired(conn *siteConn, site *moodle.Site) (state.Snapshot, error) {
	if conn.loc == nil {
		if loc, err := time.LoadLocation(site.Status.TimeZone); err == nil {
			conn.loc = loc
		}
	}
	if _, err := fs.Stat(os.DirFS(a.Dir), filepath.ToSlash(filepath.Clean(conn.specsDir))); err != nil && !filepath.IsAbs(conn.specsDir) {
		return state.Snapshot{}, fmt.Errorf("spec folder %s not found (site %q): create it or set the site's specs in the configuration", conn.specsDir, conn.name)
	}
	set := a.loadSpecs(conn)
	catalogue := make([]spec.CourseRef, len(site.Catalogue))
	for i, c := range site.Catalogue {
		catalogue[i] = spec.CourseRef{Shortname: c.Shortname, Category: c.CategoryPath}
	}
	courses, ds := spec.Resolve(set, catalogue)
	a.printDiagnostics(ds)
	if ds.HasErrors() {
		return state.Snapshot{}, errReported
	}
	return state.Snapshot{Courses: courses}, nil
}

func (a *App) printDiagnostics(ds spec.Diagnostics) {
	for _, d := range ds {
		fmt.Fprintln(a.Err, d.Error())
	}
	if n := len(ds.Errors()); n > 0 {
		fmt.Fprintf(a.Err, "%d error(s) in the specs; nothing was planned or applied.\n", n)
	}
}

// methodsUsed lists the method types the site's specs declare (offline).
func (a *App) methodsUsed(conn *siteConn) ([]state.MethodType, error) {
	set := a.loadSpecs(conn)
	courses, ds := spec.Resolve(set, nil)
	if ds.HasErrors() {
		return nil, fmt.Errorf("the specs have errors (run enrolctl validate)")
	}
	var used []state.MethodType
	for _, c := range courses {
		for _, m := range c.Methods {
			if !slices.Contains(used, m.Type) {
				used = append(used, m.Type)
			}
		}
	}
	slices.Sort(used)
	return used, nil
}

func (a *App) validateCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "validate",
		Short: "Check the specs without contacting Moodle",
		Long: `Validate reads the configuration, every course spec and policy of the site, and
reports every mistake as file:line:col: message (unknown fields, wrong types, bad dates,
unknown roles, duplicate methods or courses). Checks that need the live site (unknown
courses, users and cohorts, policies selecting by category) happen at plan time.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			site, err := a.loadConfig()
			if err != nil {
				return err
			}
			conn := &siteConn{name: site.Name, site: site, specsDir: site.SpecsDir, loc: site.Location}
			set := a.loadSpecs(conn)
			courses, ds := spec.Resolve(set, nil)
			a.printDiagnostics(ds)
			if ds.HasErrors() {
				return errReported
			}
			fmt.Fprintf(a.Out, "The specs are valid: %d course(s), %d policy file(s), %d file(s) read.\n", len(courses), len(set.Policies), len(set.Files))
			return nil
		},
	}
}
