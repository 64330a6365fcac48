package cli

import (
	"crypto/rand"
	"fmt"
	"os"
	"path/filepath"
	"slices"

	"github.com/enrolctl/enrolctl/internal/diag"
	"github.com/enrolctl/enrolctl/internal/moodle"
	"github.com/enrolctl/enrolctl/internal/safefile"
	"github.com/enrolctl/enrolctl/internal/spec"
	"github.com/enrolctl/enrolctl/internal/state"
)

// loadSpecs reads the site's spec folder. siteRoles are the roles the site has (nil
// offline: Moodle's standard roles and the configuration's are then assumed).
func (a *App) loadSpecs(conn *siteConn, siteRoles []string) *spec.Set {
	opts := spec.Options{Location: conn.loc, Roles: conn.site.Roles, SiteRoles: siteRoles}
	if !a.writes && a.stateDir != "" {
		// The parse cache spares parsing unchanged specs again; a command that writes to
		// Moodle reads them afresh, so that what it applies never comes from the cache.
		opts.CacheDir, opts.CacheKey = a.path(filepath.Join(a.stateDir, "cache")), parseCacheKey()
	}
	if filepath.IsAbs(conn.specsDir) {
		return spec.LoadDir(conn.specsDir, opts)
	}
	if !filepath.IsLocal(conn.specsDir) {
		// Above the working directory (a configuration found in a parent folder,
		// --config ../site3/enrolctl.yaml): an fs.FS cannot climb, so read the folder
		// itself, still naming files as seen from here.
		return spec.LoadDirFrom(a.path(conn.specsDir), a.Dir, opts)
	}
	// Load from the working directory so that diagnostics read specs/x.yaml:3:5.
	return spec.Load(os.DirFS(a.Dir), filepath.ToSlash(filepath.Clean(conn.specsDir)), opts)
}

// parseCacheKey is the user's secret that seals the parse cache's packs, kept in the
// user's cache folder (XDG_CACHE_HOME), outside any repository, and made on first use:
// a pack that comes with the specs (committed, copied in) is never read. nil, and then
// no cache, when there is no such folder.
func parseCacheKey() []byte {
	dir, err := os.UserCacheDir()
	if err != nil {
		return nil
	}
	path := filepath.Join(dir, "enrolctl", "parse-cache.key")
	key, err := safefile.Read(path, 64, "parse cache key")
	if err == nil && len(key) == 32 {
		return key
	}
	if err == nil {
		os.Remove(path) // cut short: made again
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil
	}
	key = make([]byte, 32)
	rand.Read(key)
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return nil // another run is making it: no cache this once
	}
	_, err = f.Write(key)
	if cerr := f.Close(); err != nil || cerr != nil {
		os.Remove(path)
		return nil
	}
	return key
}

// desiredSpecs is what the specs say, read against the site: the desired state, every
// diagnostic of the specs, and the digest of exactly the files read with the
// configuration, which binds a saved plan to them.
type desiredSpecs struct {
	state.Snapshot
	diags  diag.Diagnostics
	digest string
}

// loadDesired reads the specs against the site (its time zone, roles and catalogue;
// policies merged over the catalogue) and returns the desired state with every
// diagnostic found. Errors do not stop it: the caller still checks what it can against
// the site, so that all errors are reported in one run.
func (a *App) loadDesired(conn *siteConn, site *moodle.Site) (desiredSpecs, error) {
	set, err := a.readSpecs(conn, site)
	if err != nil {
		return desiredSpecs{}, err
	}
	return a.resolveSpecs(set, site), nil
}

// readSpecs reads the spec folder against what the site's status says (its time zone
// and roles): the first half of loadDesired, which needs nothing of the catalogue, so
// that a plan reads the specs while the catalogue is being read.
func (a *App) readSpecs(conn *siteConn, site *moodle.Site) (*spec.Set, error) {
	if loc, err := conn.location(site); err == nil {
		conn.loc = loc
	}
	if st, err := os.Stat(a.path(conn.specsDir)); err != nil || !st.IsDir() {
		return nil, fmt.Errorf("spec folder %s not found (site %q): create it or set the site's specs in the configuration", conn.specsDir, conn.name)
	}
	return a.loadSpecs(conn, siteRoleNames(site)), nil
}

// earlySpecs is a read of the spec folder started before the site has answered
// (readSpecsEarly).
type earlySpecs struct {
	done chan struct{}
	set  *spec.Set // once done
}

// readSpecsEarly starts reading the spec folder before the site has answered, when
// the configuration names the site's time zone: the specs then need nothing of the
// site but its roles, which only check them (see against). onRead, unless nil, is
// called with the specs as soon as they are read, before done: a plan asks for their
// courses then. nil: nothing was started (no time zone configured, or no spec folder),
// and readSpecs reads the folder once the status is in, as it must.
func (a *App) readSpecsEarly(conn *siteConn, onRead func(*spec.Set)) *earlySpecs {
	if conn.loc == nil {
		return nil
	}
	if st, err := os.Stat(a.path(conn.specsDir)); err != nil || !st.IsDir() {
		return nil
	}
	e := &earlySpecs{done: make(chan struct{})}
	go func() {
		defer close(e.done)
		e.set = a.loadSpecs(conn, nil)
		if onRead != nil {
			onRead(e.set)
		}
	}()
	return e
}

// against returns the specs read against the site's status: those read early when
// the site's roles cannot change them (sameAsOnline), else the folder read again.
func (e *earlySpecs) against(a *App, conn *siteConn, st moodle.SiteStatus) (*spec.Set, error) {
	<-e.done
	site := &moodle.Site{Status: st}
	if sameAsOnline(e.set, siteRoleNames(site)) {
		return e.set, nil
	}
	return a.readSpecs(conn, site)
}

// sameAsOnline reports whether specs read offline (roles checked against Moodle's
// standard ones and the configuration's) are what reading them against the site's
// roles gives: roles only decide the unknown-role errors, so when the offline read
// found no error at all and the site has every standard role, every role the specs
// name is one the site has or the configuration declares, and the reads are equal.
func sameAsOnline(set *spec.Set, siteRoles []string) bool {
	if set.Diagnostics.HasErrors() {
		return false // its errors read "neither a standard Moodle role ...": say the site's
	}
	for _, r := range spec.StandardRoles {
		if !slices.Contains(siteRoles, r) {
			return false
		}
	}
	return true
}

// resolveSpecs merges the specs read with the policies over the site's catalogue: the
// second half of loadDesired.
func (a *App) resolveSpecs(set *spec.Set, site *moodle.Site) desiredSpecs {
	catalogue := make([]spec.CourseRef, len(site.Catalogue))
	for i, c := range site.Catalogue {
		catalogue[i] = spec.CourseRef{Shortname: c.Shortname, Category: c.CategoryPath}
	}
	courses, ds := spec.Resolve(set, catalogue)
	return desiredSpecs{Snapshot: state.Snapshot{Courses: courses}, diags: ds, digest: a.specsDigest(set)}
}

// methodsUsed lists the method types the site's specs declare (offline).
func (a *App) methodsUsed(conn *siteConn) ([]state.MethodType, error) {
	set := a.loadSpecs(conn, nil)
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
