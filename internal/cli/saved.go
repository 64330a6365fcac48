package cli

import (
	"context"
	"fmt"
	"io/fs"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/enrolctl/enrolctl/internal/apply"
	"github.com/enrolctl/enrolctl/internal/config"
	"github.com/enrolctl/enrolctl/internal/diag"
	"github.com/enrolctl/enrolctl/internal/diff"
	"github.com/enrolctl/enrolctl/internal/gitsrc"
	"github.com/enrolctl/enrolctl/internal/moodle"
	"github.com/enrolctl/enrolctl/internal/planfile"
	"github.com/enrolctl/enrolctl/internal/safefile"
	"github.com/enrolctl/enrolctl/internal/spec"
	"github.com/enrolctl/enrolctl/internal/state"
)

// applySaved applies a saved plan. The file grants nothing by itself: it is validated
// whole before anything is read; then, holding the site's lease, the specs at the
// plan's commit are planned again against the live courses, every change of the file
// must be one of that plan's, and the guards, protected courses and removal accounting
// are those of the live state, never the file's.
func (a *App) applySaved(ctx context.Context, file string, f applyFlags) error {
	data, err := safefile.Read(a.path(file), planfile.MaxSize, "plan file")
	if err != nil {
		return fmt.Errorf("reading the plan: %w", err)
	}
	saved, err := decodePlanFile(a.path(file), data)
	if err != nil {
		return err
	}
	if err := apply.ValidatePlan(saved); err != nil {
		return refused(err, file)
	}
	if a.siteName == "" && a.Getenv("ENROLCTL_SITE") == "" {
		a.siteName = saved.Site // the plan says which site it was made for
	}
	conn, err := a.connect()
	if err != nil {
		return err
	}
	f.run.site = conn.name
	// A signed site's plan grants nothing unless its signature holds: approvals and
	// limits are in the file, and the file is an artifact others can edit.
	key, warn := a.planKey(conn.site)
	if key != nil {
		if err := planfile.Verify(data, key); err != nil {
			return refused(err, file)
		}
	} else if warn != "" {
		w := diag.Diagnostics{diag.Warnf(diag.Pos{File: file}, "%s: the plan's signature is not checked", warn)}
		f.run.warnings = append(f.run.warnings, w...)
		a.printDiagnostics(w)
	}
	if err := a.checkReviewedSpecs(conn, file, saved); err != nil {
		return err
	}
	if saved.Site != "" && saved.Site != conn.name {
		return refused(fmt.Errorf("the plan was made for site %q, not %q; nothing was applied: pass --site %s", saved.Site, conn.name, saved.Site), file)
	}
	lease, err := a.takeLease(ctx, conn, f)
	if err != nil {
		return err
	}
	defer lease.release(ctx)
	ctx = lease.ctx(ctx)
	site, err := conn.client.ReadSite(ctx)
	if err != nil {
		return err
	}
	desired, err := a.desiredAt(conn, site, file, saved.Commit)
	if err != nil {
		return err
	}
	courses := saved.Courses()
	desired.Courses = slices.DeleteFunc(desired.Courses, func(c state.Course) bool { return !slices.Contains(courses, c.Shortname) })
	observed, err := conn.client.Observe(ctx, site, courses, desired.Usernames(), moodle.NeedCohorts(desired.UsesCohorts()))
	if err != nil {
		return err
	}
	if err := apply.CheckStale(saved, observed); err != nil {
		return refused(err, file)
	}
	fresh := diff.ComputeWithOptions(desired, observed, diff.Options{Location: conn.loc})
	for _, c := range desired.Courses {
		if c.Options.Protect {
			fresh.Protected = append(fresh.Protected, c.Shortname)
		}
	}
	p, err := apply.VerifySaved(saved, fresh, observed)
	if err != nil {
		return refused(err, file)
	}
	if p, err = a.onlyCoursesOf(p); err != nil {
		return refused(err, file)
	}
	if !p.HasChanges() {
		fmt.Fprintln(a.Out, "The plan has no changes; nothing to apply.")
		return nil
	}
	// The guard runs on the verified changes: removal accounting and protected courses
	// as computed now; the approval of removals may come from the reviewed plan.
	f = approvedInPlan(a, file, saved, f)
	if err := apply.Guard(p, observed, f.limits(conn.site)); err != nil {
		return refused(err, file)
	}
	// checkFreeze answers f.notes plus its own, after the approval's note.
	if f.notes, err = a.checkFreeze(conn.site, f, time.Now()); err != nil {
		return err
	}
	fmt.Fprintf(a.Out, "Applying %s (%s) to %s.\n", file, summaryLine(p), conn.describe())
	return a.execute(ctx, &planned{conn: conn, site: site, desired: desired, observed: observed, plan: p}, file, f)
}

// desiredAt is the desired state of the specs a saved plan was made from: the working
// tree when it is at the plan's commit (or the specs are not in git), else the spec
// folder as committed at that commit, read from the repository.
func (a *App) desiredAt(conn *siteConn, site *moodle.Site, file, commit string) (state.Snapshot, error) {
	dir := a.specsPath(conn)
	head, _ := gitsrc.Head(dir)
	var fsys fs.FS
	switch {
	case commit == "" && head.Hash != "":
		return state.Snapshot{}, refused(fmt.Errorf("the plan file records no commit, though the specs are in git (enrolctl plan -out records it); nothing was applied: plan again"), file)
	case commit != "" && head.Hash != commit:
		var err error
		if fsys, err = gitsrc.TreeAt(dir, commit); err != nil {
			return state.Snapshot{}, &exitError{code: 1, err: err}
		}
	}
	if fsys == nil {
		desired, ds, err := a.loadDesired(conn, site)
		if err == nil && ds.HasErrors() {
			err = &diagnosticsError{ds: ds, in: "the specs"}
		}
		return desired, err
	}
	if conn.loc == nil {
		if loc, err := time.LoadLocation(site.Status.TimeZone); err == nil {
			conn.loc = loc
		}
	}
	var roles []string
	for _, r := range site.Status.Roles {
		roles = append(roles, r.Shortname)
	}
	set := spec.Load(fsys, ".", spec.Options{Location: conn.loc, Roles: conn.site.Roles, SiteRoles: roles})
	catalogue := make([]spec.CourseRef, len(site.Catalogue))
	for i, c := range site.Catalogue {
		catalogue[i] = spec.CourseRef{Shortname: c.Shortname, Category: c.CategoryPath}
	}
	courses, ds := spec.Resolve(set, catalogue)
	if ds.HasErrors() {
		return state.Snapshot{}, &diagnosticsError{ds: ds, in: "the specs at commit " + commit[:min(12, len(commit))]}
	}
	return state.Snapshot{Courses: courses}, nil
}

// onlyCoursesOf keeps the changes of the courses --course selects: with a saved plan,
// apply changes only those courses.
func (a *App) onlyCoursesOf(p diff.Plan) (diff.Plan, error) {
	if len(a.courses) == 0 {
		return p, nil
	}
	match := func(course string) bool {
		return slices.ContainsFunc(a.courses, func(pat string) bool { ok, _ := path.Match(pat, course); return ok })
	}
	for _, pat := range a.courses {
		if _, err := path.Match(pat, ""); err != nil {
			return p, fmt.Errorf("--course %q: %v", pat, err)
		}
	}
	kept := slices.DeleteFunc(slices.Clone(p.Changes), func(c diff.Change) bool { return !match(c.Course) })
	if len(kept) == 0 {
		return p, (fmt.Errorf("--course %s matches no course of the plan (%s); nothing was applied", strings.Join(a.courses, ","), strings.Join(p.Courses(), ", ")))
	}
	p.Changes = kept
	return p, nil
}

// planKey is the key that signs the site's saved plans, from the environment variable
// its plan_signing_key_env names; nil when the site does not sign plans, or (with warn
// saying so) when that variable is not set. The key is never printed.
func (a *App) planKey(site *config.Site) (key []byte, warn string) {
	if site == nil || site.PlanSigningKeyEnv == "" {
		return nil, ""
	}
	k := strings.TrimSpace(a.Getenv(site.PlanSigningKeyEnv))
	if k == "" {
		return nil, fmt.Sprintf("site %q signs its plans with the key in %s, which is not set", site.Name, site.PlanSigningKeyEnv)
	}
	return []byte(k), ""
}

// specsPath is the site's spec folder, resolved against the working directory.
func (a *App) specsPath(conn *siteConn) string {
	if filepath.IsAbs(conn.specsDir) {
		return conn.specsDir
	}
	return filepath.Join(a.Dir, conn.specsDir)
}
