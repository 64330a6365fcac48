package cli

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/schollz/progressbar/v3"
	"github.com/spf13/cobra"

	"github.com/enrolctl/enrolctl/internal/apply"
	"github.com/enrolctl/enrolctl/internal/config"
	"github.com/enrolctl/enrolctl/internal/diag"
	"github.com/enrolctl/enrolctl/internal/diff"
	"github.com/enrolctl/enrolctl/internal/gitsrc"
	"github.com/enrolctl/enrolctl/internal/moodle"
	"github.com/enrolctl/enrolctl/internal/render"
	"github.com/enrolctl/enrolctl/internal/review"
)

type applyFlags struct {
	autoApprove     bool
	allowRemovals   bool
	maxRemovals     int
	maxShare        float64
	maxSiteRemovals int
	auditLog        string
	lockTimeout     time.Duration
	ignoreFreeze    string                 // --ignore-freeze REASON (freeze.go)
	format          string                 // -o: text or json
	set             func(name string) bool // whether a flag was given
	notes           []string               // kept in the audit record's start line
	run             *applyRun              // what the report needs, shared by the copies of f
}

// applyRun collects, as apply goes, what its report needs.
type applyRun struct {
	plan     string // the saved plan file applied
	site     string
	ran      bool // apply.Run returned: res holds every change's outcome
	res      apply.Result
	failures diag.Diagnostics // of the changes that did not land
	tookOver string           // whose lease this run's replaced, and why
	warnings diag.Diagnostics
	auditLog string
	// id is the run's id: its audit lines' and its lease's (the holder names it).
	id string
	// lease is the site's apply lease once taken: execute releases it before the
	// audit record ends, to record the release.
	lease *siteLease
}

func (a *App) applyCommand() *cobra.Command {
	var f applyFlags
	cmd := &cobra.Command{
		Use:   "apply [PLAN-FILE]",
		Short: "Make Moodle match the specs",
		Long: `Apply converges Moodle to the specs.

With a PLAN-FILE saved by "enrolctl plan -out", it applies exactly that plan, after
checking that none of the courses it touches changed in Moodle since (a stale plan is
refused, naming the courses). Without one, it plans, shows the plan and asks for
confirmation; without a terminal, --auto-approve is required.

Removals are guarded: nothing is removed in a course whose spec says protect: true,
and a course may not lose more enrolments than --max-removals or --max-removal-share
unless --allow-removals is given. Every run appends a JSON line to the audit log.

Refusals and the changes that failed are reported as diagnostics on stderr, naming the
course and, for failures, the user and Moodle's errorcode. With -o json, stdout is one
JSON document instead (docs/apply.md, "The apply report"): per course, the outcome of
each change, and the diagnostics.`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			f.set = cmd.Flags().Changed
			if f.format != "text" && f.format != "json" {
				return fmt.Errorf("-o %s: want text or json", f.format)
			}
			f.run = &applyRun{id: apply.NewRunID()}
			if len(args) == 1 {
				f.run.plan = args[0]
			}
			out := a.Out
			if f.format == "json" {
				a.Out = io.Discard // the report replaces the text
				defer func() { a.Out = out }()
			}
			var err error
			if len(args) == 1 {
				err = a.applySaved(cmd.Context(), args[0], f)
			} else {
				err = a.applyFresh(cmd.Context(), f)
			}
			if f.format == "json" {
				if werr := a.applyReport(f.run, err).Encode(out); werr != nil && err == nil {
					err = werr
				}
			}
			return err
		},
	}
	def := apply.DefaultLimits()
	cmd.Flags().BoolVar(&f.autoApprove, "auto-approve", false, "apply without asking for confirmation")
	cmd.Flags().BoolVar(&f.allowRemovals, "allow-removals", false, "allow removals above the limits (never in protected courses)")
	// The limits' flags count only when given (limits): their defaults are the site's,
	// said in the usage, so cobra must not print a "(default N)" of its own.
	cmd.Flags().IntVar(&f.maxRemovals, "max-removals", 0, fmt.Sprintf("most enrolments one course may lose without --allow-removals (default: the site's max_removals, else %d; 0: none)", def.MaxRemovals))
	cmd.Flags().Float64Var(&f.maxShare, "max-removal-share", 0, fmt.Sprintf("largest share of a course's enrolments it may lose without --allow-removals (default: the site's max_share, else %g)", def.MaxShare))
	cmd.Flags().IntVar(&f.maxSiteRemovals, "max-site-removals", 0, fmt.Sprintf("most enrolments all the courses of one apply may lose without --allow-removals (default: the site's max_site_removals, else %d)", def.MaxSiteRemovals))
	a.courseFlag(cmd)
	cmd.Flags().DurationVar(&f.lockTimeout, "lock-timeout", 0, "on a real site, how long to wait for another apply to finish (default: stop at once, naming it)")
	cmd.Flags().StringVar(&f.auditLog, "audit-log", "", "append the audit record to this file (default: the site's audit_log, or .enrolctl/audit.log)")
	freezeFlag(cmd, &f.ignoreFreeze)
	cmd.Flags().StringVarP(&f.format, "output", "o", "text", "output format: text, or json (the apply report, docs/apply.md)")
	a.planViewFlags(cmd)
	return cmd
}

// limits are the removal guard's: a flag given on the command line, else the site's
// configuration (enrolctl.yaml), else apply's defaults. 0 means none allowed.
func (f applyFlags) limits(site *config.Site) apply.Limits {
	lim := apply.DefaultLimits()
	if site != nil {
		if site.MaxRemovals != nil {
			lim.MaxRemovals = *site.MaxRemovals
		}
		if site.MaxShare != nil {
			lim.MaxShare = *site.MaxShare
		}
		if site.MaxSiteRemovals != nil {
			lim.MaxSiteRemovals = *site.MaxSiteRemovals
		}
	}
	set := f.set
	if set == nil {
		set = func(string) bool { return false }
	}
	if set("max-removals") {
		lim.MaxRemovals = f.maxRemovals
	}
	if set("max-removal-share") {
		lim.MaxShare = f.maxShare
	}
	if set("max-site-removals") {
		lim.MaxSiteRemovals = f.maxSiteRemovals
	}
	lim.AllowRemovals = f.allowRemovals
	return lim
}

func (a *App) applyFresh(ctx context.Context, f applyFlags) error {
	if f.format == "json" && !f.autoApprove {
		return refused(fmt.Errorf("apply -o json cannot ask for confirmation: pass --auto-approve, or apply a reviewed plan file"), "")
	}
	pl, err := a.makePlan(ctx)
	if pl != nil {
		f.run.site = pl.conn.name
	}
	if err != nil {
		return err
	}
	if err := render.Text(a.Out, pl.plan, a.textOptions()); err != nil {
		return err
	}
	if !pl.plan.HasChanges() {
		return nil
	}
	if err := apply.Guard(pl.plan, pl.observed, f.limits(pl.conn.site)); err != nil {
		return refused(err, "")
	}
	if f.notes, err = a.checkFreeze(pl.conn.site, f, time.Now()); err != nil {
		return err
	}
	if !f.autoApprove {
		if !a.Terminal {
			return refused(fmt.Errorf("apply needs confirmation: run it in a terminal, or pass --auto-approve (in CI, apply a reviewed plan file)"), "")
		}
		fmt.Fprint(a.Out, "\nApply these changes to ", pl.conn.describe(), "? Only 'yes' will be accepted: ")
		answer, err := a.ask(ctx)
		if err != nil {
			return err
		}
		if strings.TrimSpace(answer) != "yes" {
			fmt.Fprintln(a.Out, "Apply cancelled; nothing was changed.")
			return &exitError{code: exitFailure}
		}
	}
	lease, err := a.takeLease(ctx, pl.conn, f)
	if err != nil {
		return err
	}
	defer lease.release(ctx)
	// Another apply may have run while the plan was shown: what it changed is checked
	// now that no other can start.
	// (A read: an interrupt now is seen by execute, which records it and writes nothing.)
	if err := recheck(context.WithoutCancel(ctx), pl); err != nil {
		return err
	}
	return a.execute(lease.ctx(ctx), pl, "", f)
}

// recheck re-reads the plan's courses and refuses the plan if they changed since it
// was made.
func recheck(ctx context.Context, pl *planned) error {
	now, err := pl.conn.client.Observe(ctx, pl.site, pl.plan.Courses(), pl.users, moodle.NeedCohorts(pl.cohorts))
	if err != nil {
		return err
	}
	if err := apply.CheckStale(pl.plan, now); err != nil {
		return refused(err, "")
	}
	pl.observed = now
	return nil
}

// siteLease is the apply lease of a real site; nil (no lease) for the sandbox, which
// its file lock already serialises.
type siteLease struct {
	l  *apply.Lease
	id string
}

// takeLease takes the site's apply lease through the plugin, waiting up to
// --lock-timeout for another apply to finish.
func (a *App) takeLease(ctx context.Context, conn *siteConn, f applyFlags) (*siteLease, error) {
	if conn.sandbox != nil {
		return &siteLease{}, nil
	}
	prov := a.provenance(conn)
	// The run id makes the holder unique per run: two applies in separate PID
	// namespaces of one host may both be pid 1.
	holder := apply.ThisProcess(prov.Actor, f.run.id, prov.Job).String()
	if f.lockTimeout > 0 {
		fmt.Fprintf(a.Err, "Waiting up to %s for the site's apply lease...\n", f.lockTimeout)
	}
	l, err := apply.AcquireLease(ctx, conn.client, apply.LeaseOptions{Holder: holder, Wait: f.lockTimeout, Gone: a.leaseHolderGone})
	var held *apply.LeaseHeldError
	if errors.As(err, &held) {
		return nil, refused(err, "")
	}
	if err != nil {
		return nil, &exitError{code: exitFailure, err: err}
	}
	if l.TookOver != "" {
		fmt.Fprintf(a.Err, "Note: %s.\n", l.TookOver)
		f.run.tookOver = l.TookOver
	}
	sl := &siteLease{l: l, id: f.run.id}
	f.run.lease = sl
	return sl, nil
}

// ctx is the context writes run under: cancelled by a signal, or when the lease is lost.
func (s *siteLease) ctx(parent context.Context) context.Context {
	if s.l == nil {
		return parent
	}
	return s.l.Context()
}

// release gives the lease back (retried) and says what became of it, for the audit
// record: "released", or why not. "" for the sandbox, and when already released.
func (s *siteLease) release(ctx context.Context) string {
	if s == nil || s.l == nil {
		return ""
	}
	if err := s.l.Release(ctx); err != nil {
		return fmt.Sprintf("not released: %v", err)
	}
	return "released"
}

// execute runs the plan, reports per course, keeps the audit record and saves the
// sandbox. The audit record is started (and synced) before the first write and grows
// as outcomes arrive, so that an interrupted or crashed apply still leaves a record.
func (a *App) execute(ctx context.Context, pl *planned, planFile string, f applyFlags) (err error) {
	auditPath := cmp.Or(f.auditLog, pl.conn.auditLog)
	auditPath = a.path(auditPath)
	notes := f.notes
	if f.set != nil && f.set("allow-removals") {
		// Who lifted the limits is the record's actor; that they were lifted, and how, is here.
		notes = append(slices.Clone(notes), "removal limits lifted on the command line (--allow-removals; never in protected courses)")
	}
	if f.run.tookOver != "" {
		notes = append(slices.Clone(notes), f.run.tookOver)
	}
	start := apply.AuditStart{
		Run:        f.run.id,
		Provenance: a.provenance(pl.conn),
		Site:       pl.conn.name, SiteURL: pl.conn.urlForAudit(),
		Plan: planFile, PlanCommit: pl.plan.Commit, Notes: notes,
	}
	if f.run.lease != nil && f.run.lease.l != nil {
		start.Lease, start.LeaseHolder = f.run.id, f.run.lease.l.Holder()
	}
	audit, err := a.startAudit(auditPath, start, pl.plan)
	if err != nil {
		return fmt.Errorf("%w; nothing was applied (apply writes nothing it cannot record)", err)
	}
	var res apply.Result
	defer func() {
		// A panic still closes the record, then goes on.
		if r := recover(); r != nil {
			_ = audit.Finish("crashed", fmt.Sprint(r), res)
			panic(r)
		}
	}()
	progress := a.progress(len(pl.plan.Changes))
	var auditErr error
	res, err = apply.Run(ctx, pl.conn.client, pl.plan, pl.observed, apply.Options{
		Progress: progress.report,
		Settled: func(course string, rs []apply.ChangeResult) error {
			err := audit.Course(course, rs)
			if err != nil && auditErr == nil {
				auditErr = err
			}
			return err
		},
		Retry: func(r apply.Retry) error {
			// One line per call sent again, as it happens, and in the record.
			fmt.Fprintf(a.Err, "Retrying %s (%d change(s) in %d course(s)), attempt %d of %d: %s\n",
				r.Function, r.Items, r.Courses, r.Attempt, r.Attempts, r.Reason)
			err := audit.Retry(r)
			if err != nil && auditErr == nil {
				auditErr = err
			}
			return err
		},
	})
	progress.done()
	stopCode := interruptedCode(ctx) // before the release ends the lease's context
	// The lease is given back before the record ends, so that the record says whether
	// it was; a release that fails is retried, then said.
	if released := f.run.lease.release(ctx); released != "" {
		audit.Lease(released)
		if released != "released" {
			fmt.Fprintf(a.Err, "Warning: the site's apply lease %s was %s. The next apply on this host takes it over; from another host, run `enrolctl unlock %s` once you know this apply is over, or wait for it to expire (2 minutes).\n",
				f.run.id, released, f.run.id)
		}
	}
	if err != nil {
		_ = audit.Finish(string(apply.StatusFailed), err.Error(), res)
		return err
	}
	f.run.ran, f.run.res, f.run.auditLog = true, res, a.rel(auditPath)
	f.run.failures = apply.FailureDiagnostics(pl.plan, res, a.expandPlan)
	// The record's status is the report's (docs/audit.md).
	status := apply.StatusOf(res)
	if err := audit.Finish(string(status), res.Stopped, res); err != nil && auditErr == nil {
		auditErr = err
	}
	if pl.conn.sandbox != nil {
		if err := pl.conn.sandbox.Save(); err != nil {
			return err
		}
	}
	a.printDiagnostics(f.run.failures)
	a.printResult(res)
	if auditErr != nil {
		// Nothing is applied that cannot be recorded: the run stopped before its next
		// write call.
		return &exitError{code: exitFailure, err: fmt.Errorf("%w; apply stopped before its next write call, since it writes nothing it cannot record: the outcomes above are what was written to Moodle (run plan to see what is left)", auditErr)}
	}
	fmt.Fprintf(a.Out, "Audit record appended to %s.\n", a.rel(auditPath))
	if res.Interrupted {
		fmt.Fprintf(a.Err, "Interrupted: nothing more was sent after the write in flight, whose outcome is above (%s). Run plan to see what is left.\n", res.Stopped)
		return &exitError{code: stopCode}
	}
	if !res.OK() {
		return errReported
	}
	return nil
}

// startAudit starts the audit record at path (a.openAudit's file when set, in tests).
func (a *App) startAudit(path string, start apply.AuditStart, p diff.Plan) (*apply.AuditLog, error) {
	if a.openAudit == nil {
		return apply.StartAudit(path, start, p)
	}
	f, err := a.openAudit(path)
	if err != nil {
		return nil, err
	}
	return apply.StartAuditFile(f, path, start, p)
}

// provenance says who runs this apply, from which commit and merge request.
func (a *App) provenance(conn *siteConn) apply.Provenance {
	dir := a.specsPath(conn)
	head, _ := gitsrc.Head(dir)
	dirty, _ := gitsrc.Dirty(dir)
	prov := apply.DetectProvenance(a.Getenv, head.Hash, gitsrc.Message(dir), dirty)
	// The review loop's CI reader also knows GitHub's event file and GitLab's project
	// URL: what it finds fills what the variables alone did not give.
	if ci, err := review.DetectCI(a.Getenv); err == nil {
		prov.MergeRequest = cmp.Or(prov.MergeRequest, ci.MergeRequestURL)
		prov.Job = cmp.Or(prov.Job, ci.PipelineURL)
	}
	return prov
}

func summaryLine(p diff.Plan) string {
	s := p.Summary()
	return fmt.Sprintf("%d to add, %d to change, %d to remove", s.Add, s.Change, s.Remove)
}

// progressReporter shows a bar on a terminal and one line per failure elsewhere (CI
// logs stay readable; the per-course report follows anyway).
type progressReporter struct {
	bar    *progressbar.ProgressBar
	a      *App
	failed int
	said   map[string]bool // course and error of the failures said
}

func (a *App) progress(total int) *progressReporter {
	pr := &progressReporter{a: a}
	if a.Terminal && total > 20 {
		pr.bar = progressbar.NewOptions(total, progressbar.OptionSetWriter(a.Err), progressbar.OptionSetDescription("applying"),
			progressbar.OptionShowCount(), progressbar.OptionClearOnFinish(), progressbar.OptionThrottle(100*time.Millisecond))
	}
	return pr
}

func (pr *progressReporter) report(r apply.ChangeResult) {
	if pr.bar != nil {
		_ = pr.bar.Add(1)
		return
	}
	if r.Outcome == apply.Failed {
		// A line as it happens, once per course and error: the diagnostics that follow
		// count the changes that failed alike.
		pr.failed++
		key := r.Course + "\x00" + r.Error
		if pr.said[key] {
			return
		}
		if pr.said == nil {
			pr.said = map[string]bool{}
		}
		pr.said[key] = true
		fmt.Fprintf(pr.a.Err, "failed: %s: %s\n", r.Address, r.Error)
	}
}

func (pr *progressReporter) done() {
	if pr.bar != nil {
		_ = pr.bar.Finish()
	}
}
