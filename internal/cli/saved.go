package cli

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/enrolctl/enrolctl/internal/apply"
	"github.com/enrolctl/enrolctl/internal/config"
	"github.com/enrolctl/enrolctl/internal/diff"
	"github.com/enrolctl/enrolctl/internal/moodle"
	"github.com/enrolctl/enrolctl/internal/planfile"
	"github.com/enrolctl/enrolctl/internal/safefile"
	"github.com/enrolctl/enrolctl/internal/state"
)

// applySaved applies a saved plan. The file grants nothing by itself: it is validated
// whole before anything is read; then, holding the site's lease, the specs checked out
// here are planned again against the live courses. The plan must have been made from
// exactly these specs (its digest), every change of the file must be one of that
// plan's, and the guards, protected courses and removal accounting are those of the
// live state, never the file's.
func (a *App) applySaved(ctx context.Context, file string, f applyFlags) error {
	data, err := safefile.Read(a.path(file), planfile.MaxSize, "plan file")
	if err != nil {
		return fmt.Errorf("reading the plan: %w", err)
	}
	read, err := decodePlanFile(a.path(file), data)
	if invalid := (*planfile.InvalidPlanError)(nil); errors.As(err, &invalid) {
		return refused(invalid, file)
	} else if err != nil {
		return err
	}
	saved := read.Plan
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
	key, err := a.planKey(conn.site)
	if err != nil {
		return refused(err, file)
	}
	if key != nil {
		if err := read.Verify(key); err != nil {
			return refused(err, file)
		}
	}
	if saved.Site != "" && saved.Site != conn.name {
		return refused(fmt.Errorf("the plan was made for site %q, not %q; nothing was applied: pass --site %s", saved.Site, conn.name, saved.Site), file)
	}
	if saved.SpecsDigest == "" {
		return a.checkReviewedSpecs(conn, file, saved, "")
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
	// The specs checked out here are the branch being applied (main after the merge):
	// the plan must have been made from exactly them.
	desired, err := a.loadDesired(conn, site)
	if err != nil {
		return err
	}
	if err := a.checkReviewedSpecs(conn, file, saved, desired.digest); err != nil {
		return err
	}
	if desired.diags.HasErrors() {
		return &diagnosticsError{ds: desired.diags, in: "the specs"}
	}
	courses := saved.Courses()
	desired.Courses = slices.DeleteFunc(desired.Courses, func(c state.Course) bool { return !slices.Contains(courses, c.Shortname) })
	users, cohorts := desired.Usernames(), desired.UsesCohorts()
	observed, err := conn.client.Observe(ctx, site, courses, users, moodle.NeedCohorts(cohorts))
	if err != nil {
		return err
	}
	fresh := diff.ComputeWithOptions(desired.Snapshot, observed, diff.Options{Location: conn.loc, SkipUnknownUsers: conn.site.SkipUnknownUsers})
	p, verifyErr := apply.VerifySaved(saved, fresh, observed)
	if verifyErr == nil && len(saved.Changes) > 0 && !p.HasChanges() {
		// A CI retry of an apply that succeeded: every change is in Moodle already.
		fmt.Fprintf(a.Out, "%s is already applied: Moodle holds each of its %d change(s); nothing was written.\n", file, len(saved.Changes))
		return nil
	}
	if err := apply.CheckStale(saved, observed); err != nil {
		return refused(err, file)
	}
	if verifyErr != nil {
		return refused(verifyErr, file)
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
	return a.execute(ctx, &planned{conn: conn, site: site, users: users, cohorts: cohorts, observed: observed, plan: p}, file, f)
}

// onlyCoursesOf keeps the changes of the courses --course selects: with a saved plan,
// apply changes only those courses.
func (a *App) onlyCoursesOf(p diff.Plan) (diff.Plan, error) {
	if len(a.courses) == 0 {
		return p, nil
	}
	if err := checkCoursePatterns(a.courses); err != nil {
		return p, err
	}
	kept := slices.DeleteFunc(slices.Clone(p.Changes), func(c diff.Change) bool { return !a.courseSelected(c.Course) })
	if len(kept) == 0 {
		return p, (fmt.Errorf("--course %s matches no course of the plan (%s); nothing was applied", strings.Join(a.courses, ","), strings.Join(p.Courses(), ", ")))
	}
	p.Changes = kept
	return p, nil
}

// planKey is the key that signs the site's saved plans, from the environment variable
// its plan_signing_key_env names; nil when the site does not sign plans. A site that
// names a key fails closed: without the variable nothing is signed or applied, since
// an unsigned plan would grant what its file says. The key is never printed.
func (a *App) planKey(site *config.Site) ([]byte, error) {
	if site == nil || site.PlanSigningKeyEnv == "" {
		return nil, nil
	}
	k := strings.TrimSpace(a.Getenv(site.PlanSigningKeyEnv))
	if k == "" {
		return nil, fmt.Errorf("site %q signs its plans with the key in %s, which is not set; nothing was signed or applied: set %s (in CI, the protected variable or secret that holds the key)",
			site.Name, site.PlanSigningKeyEnv, site.PlanSigningKeyEnv)
	}
	return []byte(k), nil
}

// specsPath is the site's spec folder, resolved against the working directory.
func (a *App) specsPath(conn *siteConn) string {
	if filepath.IsAbs(conn.specsDir) {
		return conn.specsDir
	}
	return filepath.Join(a.Dir, conn.specsDir)
}
