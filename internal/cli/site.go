package cli

import (
	"cmp"
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/enrolctl/enrolctl/internal/config"
	"github.com/enrolctl/enrolctl/internal/moodle"
	"github.com/enrolctl/enrolctl/internal/safefile"
	"github.com/enrolctl/enrolctl/internal/sandbox"
	"github.com/enrolctl/enrolctl/internal/spec"
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
	// readOnly is set when client holds the site's read-only token (read_token_env or
	// read_token_file), for a command that never writes.
	readOnly bool
}

// writesAnnotation marks, in its cobra Annotations, a command that writes to Moodle:
// it connects with the site's token (token_env, token_file). Every other command only
// reads, and connects with the site's read-only token when the site names one. A
// command is read-only unless it says otherwise, so a command added without thinking
// about tokens gets the token that cannot write (Moodle refuses, and says so) rather
// than the one that can.
const writesAnnotation = "enrolctl/writes-moodle"

// writesMoodle marks cmd as a command that writes to Moodle.
func writesMoodle(cmd *cobra.Command) *cobra.Command {
	if cmd.Annotations == nil {
		cmd.Annotations = map[string]string{}
	}
	cmd.Annotations[writesAnnotation] = "true"
	return cmd
}

// commandWrites reports whether cmd was marked by writesMoodle.
func commandWrites(cmd *cobra.Command) bool { return cmd.Annotations[writesAnnotation] == "true" }

// location is the time zone dates are read and shown in: the configured one, else
// the site's.
func (c *siteConn) location(site *moodle.Site) (*time.Location, error) {
	if c.loc != nil {
		return c.loc, nil
	}
	loc, err := time.LoadLocation(site.Status.TimeZone)
	if err != nil {
		return nil, fmt.Errorf("the site's time zone %q: %v (set timezone in the configuration)", site.Status.TimeZone, err)
	}
	return loc, nil
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

// loadConfig reads the configuration and selects the site, once a run (a plan reads
// the specs' commit before it connects). Its errors are returned as one
// diagnosticsError "in the configuration"; its warnings are printed, once.
func (a *App) loadConfig() (*config.Site, error) {
	if a.loaded == nil {
		a.loaded = &loadedConfig{}
		cfg, err := a.readConfig()
		if err == nil {
			a.loaded.site, err = cfg.Select(a.siteChosen())
		}
		a.loaded.err = err
		if err == nil {
			a.maskLog = a.loaded.site.MaskUsernames && a.inCI()
		}
	}
	return a.loaded.site, a.loaded.err
}

type loadedConfig struct {
	site *config.Site
	err  error
}

// inCI reports whether enrolctl runs in a CI job, whose log reaches more readers than
// the merge request's comment.
func (a *App) inCI() bool {
	return a.Getenv("CI") == "true" || a.Getenv("GITLAB_CI") == "true" || a.Getenv("GITHUB_ACTIONS") == "true"
}

// readConfig finds and reads the configuration, printing its warnings.
func (a *App) readConfig() (*config.Config, error) {
	cfg, ds := config.Load(a.Dir, a.configFlag())
	if ds.HasErrors() {
		return nil, &diagnosticsError{ds: ds, in: "the configuration"}
	}
	a.holdSiteSecrets(cfg)
	a.printDiagnostics(ds)
	// The configuration found (here or in a folder above) is the one every later step
	// names: the specs digest, --changed-since.
	a.configPath, a.stateDir = cfg.File, filepath.Join(cfg.Dir, sandboxDir)
	return cfg, nil
}

// siteChosen is the site named by --site, else by ENROLCTL_SITE (CI templates name
// the site once); "" when neither does.
func (a *App) siteChosen() string {
	if a.siteName != "" {
		return a.siteName
	}
	return a.Getenv("ENROLCTL_SITE")
}

// configFlag is the configuration file the command line names: --config, else the
// environment variable ENROLCTL_CONFIG; "" to look for one (config.Find).
func (a *App) configFlag() string {
	if a.configPath != "" {
		return a.configPath
	}
	return a.Getenv("ENROLCTL_CONFIG")
}

// readFile reads a file named in a diagnostic (relative to the working directory) to
// show the line it points at. A CSV is read as its import decoded it, since its
// diagnostics' columns point into that text (a Windows-1252 file is converted).
func (a *App) readFile(file string) ([]byte, error) {
	data, err := safefile.Read(a.path(file), maxCSVSize, "file")
	if err == nil && strings.EqualFold(filepath.Ext(file), ".csv") {
		if text, derr := spec.DecodeCSV(data); derr == nil {
			return text.Data, nil
		}
	}
	return data, err
}

// connectSite connects to the selected site and reads its status and catalogue, which
// every command that looks at live courses starts with.
func (a *App) connectSite(ctx context.Context) (*siteConn, *moodle.Site, error) {
	conn, err := a.connect()
	if err != nil {
		return nil, nil, err
	}
	site, err := conn.client.ReadSite(ctx)
	if err != nil {
		return nil, nil, siteReadError(conn, err)
	}
	return conn, site, nil
}

// connect selects the site and builds its client. Without a configured site it opens
// the sandbox and says so in one line.
func (a *App) connect() (*siteConn, error) {
	site, err := a.loadConfig()
	if err != nil {
		return nil, err
	}
	conn := &siteConn{name: site.Name, site: site, specsDir: site.SpecsDir, loc: site.Location,
		auditLog: cmp.Or(site.AuditLog, filepath.Join(a.stateDir, "audit.log"))}
	if site.Sandbox {
		sb, err := sandbox.OpenWait(a.path(a.stateDir), sandbox.DefaultWait, func(holder string) {
			fmt.Fprintf(a.Err, "The sandbox is in use by %s; waiting up to %s for it to finish.\n", holder, sandbox.DefaultWait)
		})
		if err != nil {
			return nil, err
		}
		a.atExit = append(a.atExit, sb.Close)
		if a.configPath == "" {
			// Said only where no configuration exists up the tree: one that names the
			// sandbox (init writes it) chose it.
			fmt.Fprintf(a.Err, "No Moodle configured: using the sandbox Moodle in %s (reset it with `enrolctl sandbox reset`).\n", a.rel(sb.Path()))
		}
		conn.sandbox = sb
		conn.client, err = moodle.New(moodle.Config{URL: sandbox.URL, Token: sandbox.Token, HTTPClient: a.siteHTTP(sb.HTTPClient(), "the sandbox Moodle", sandbox.Token)})
		return conn, err
	}
	conn.readOnly = !a.writes && site.HasReadToken()
	conn.client, err = a.siteClient(site, a.writes)
	return conn, err
}

// siteClient builds a client of a configured site: with its token when write is set,
// else with its read-only token (the token when it names none).
func (a *App) siteClient(site *config.Site, write bool) (*moodle.Client, error) {
	token, err := site.ReadToken(a.Dir, a.Getenv)
	if write {
		token, err = site.Token(a.Dir, a.Getenv)
	}
	if err != nil {
		return nil, err
	}
	return moodle.New(moodle.Config{URL: site.URL, Token: token, HTTPClient: a.siteHTTP(nil, fmt.Sprintf("site %s (%s)", site.Name, site.URL), token)})
}
