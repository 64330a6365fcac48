package cli

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"github.com/enrolctl/enrolctl/internal/redact"
	"os"
	"path"
	"runtime"
	"runtime/debug"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/spf13/cobra"

	"github.com/enrolctl/enrolctl/internal/diff"
	"github.com/enrolctl/enrolctl/internal/gitsrc"
	"github.com/enrolctl/enrolctl/internal/moodle"
	"github.com/enrolctl/enrolctl/internal/planfile"
	"github.com/enrolctl/enrolctl/internal/render"
	"github.com/enrolctl/enrolctl/internal/review"
	"github.com/enrolctl/enrolctl/internal/safefile"
	"github.com/enrolctl/enrolctl/internal/spec"
	"github.com/enrolctl/enrolctl/internal/state"
)

const planFormat = diff.FormatVersion

// planned is everything a plan run produced. observed is what the plan kept of the
// live state: the directory and the courses it removes something from, which is all
// apply's guard reads; apply reads the plan's courses again before writing, with the
// users the specs name and whether they use cohorts (users, cohorts): the desired
// state itself is not kept once planned.
type planned struct {
	conn     *siteConn
	site     *moodle.Site
	users    []string
	cohorts  bool
	observed state.Snapshot
	plan     diff.Plan
}

// makePlan loads the specs, reads the live courses they manage and computes the plan.
// When the specs or the checks against the site find errors, it returns the plan
// (with its diagnostics, and no changes) and a diagnosticsError naming them all.
//
// The plan is a pipeline: the courses the specs name are asked for as soon as the
// specs are read, while they are resolved; each course is planned as soon as it is
// read (on every core, while the other courses are still being read and decoded),
// and only what the plan needs of it is kept, never the whole observed site.
func (a *App) makePlan(ctx context.Context) (*planned, error) {
	specsCommit := a.specsCommit()
	defer specsCommit()
	// The specs read before the site has answered name the courses to ask for: by
	// shortname, while the site's status and catalogue are still being read.
	var early *courseRead
	siteRead := make(chan struct{})
	var readSite *moodle.Site
	siteOf := func() (*moodle.Site, error) {
		<-siteRead
		if readSite == nil {
			return nil, errSiteUnread
		}
		return readSite, nil
	}
	conn, site, set, stopProgress, err := a.readSiteAndSet(ctx, func(conn *siteConn, offline *spec.Set, ahead *moodle.AheadRows) {
		if names, users := a.earlyCourses(offline, nil); names != nil {
			early = startNamedCourseRead(ctx, conn.client, siteOf, names, users, ahead)
			return
		}
		ahead.None()
	})
	readSite = site
	close(siteRead)
	if early != nil {
		defer early.stop()
	}
	if err != nil {
		return nil, err
	}
	defer stopProgress()
	if early == nil {
		if names, _ := a.earlyCourses(set, site); names != nil {
			early = startCourseRead(ctx, conn.client, site, names)
			defer early.stop()
		}
	}
	specs := a.resolveSpecs(set, site)
	desired := specs.Snapshot
	if desired, err = a.onlyCourses(desired); err != nil {
		return nil, err
	}
	if desired, err = a.onlyChanged(conn, site, desired); err != nil {
		return nil, err
	}
	prov := diff.Provenance{CreatedAt: time.Now().UTC().Format(time.RFC3339), Site: conn.name, SpecsDigest: specs.digest}
	planner := diff.NewPlanner(desired, a.diffOptions(conn, specs, prov))
	read := early
	if want := uniqueNames(desired.Shortnames()); read == nil || !slices.Equal(read.names, want) {
		// Not the courses the plan is of (resolving the specs dropped one): read
		// those instead.
		if early != nil {
			early.stop()
		}
		read = startCourseRead(ctx, conn.client, site, want)
		defer read.stop()
	}
	dir, err := read.planInto(desired, planner)
	stopProgress()
	if err != nil {
		return nil, err
	}
	// What the read and the planning left is collected, and given back, before Plan
	// puts the courses' lists together and the plan is rendered: the process then
	// grows from what the plan holds, not from the read's peak plus the plan's lists
	// (the collector's free pages are too scattered for those lists, and are not given
	// back for seconds). One collection of what is live: tens of milliseconds at
	// 10,000 courses.
	debug.FreeOSMemory()
	if commit, dirty, err := specsCommit(); err == nil {
		planner.FromCommit(commit.Hash, dirty)
	}
	p, observed := planner.Plan(dir)
	// And the courses' lists, copied into the plan's, before it is rendered, which
	// then reuses their memory (a 10,000-course plan: 24 MB).
	runtime.GC()
	pl := &planned{conn: conn, site: site, users: read.users, cohorts: read.cohorts, observed: observed, plan: p}
	if p.Diagnostics.HasErrors() {
		return pl, &diagnosticsError{ds: p.Diagnostics, in: "the specs"}
	}
	return pl, nil
}

// earlyCourses are the courses of the site the specs read name, which a plan may ask
// Moodle for before they are resolved, sorted; nil when resolving them may add
// courses (a policy selects courses, by category or name) or --changed-since may
// leave some out, which only the resolved specs tell. site nil: the catalogue is not
// read yet, and every course named is asked for by name. users is how many users
// their specs list, a guess at the rows the read brings.
func (a *App) earlyCourses(set *spec.Set, site *moodle.Site) (names []string, users int) {
	if len(set.Policies) > 0 || a.changedSince != "" {
		return nil, 0
	}
	names = []string{}
	for _, c := range set.Courses {
		if site != nil {
			if _, ok := site.CourseByName(c.Shortname); !ok {
				continue // an unknown course, which Resolve refuses
			}
		}
		if len(a.courses) == 0 || a.courseSelected(c.Shortname) {
			names = append(names, c.Shortname)
			users += c.Users()
		}
	}
	return uniqueNames(names), users
}

func uniqueNames(names []string) []string {
	names = slices.Clone(names)
	slices.Sort(names)
	return slices.Compact(names)
}

// courseRead is a read of courses under way (moodle.ObserveEach), whose courses are
// planned once the desired state they are planned against is known (planInto).
type courseRead struct {
	names   []string
	courses chan *state.Course
	ready   chan struct{} // closed once users and cohorts are set
	once    sync.Once
	users   []string // the users the desired state names, which the read looks up
	cohorts bool     // whether the desired state uses cohorts, which the read then reads
	cancel  context.CancelFunc
	done    chan struct{}
	dir     state.Directory
	err     error
}

// errSiteUnread ends a read of courses begun before the site's status and catalogue,
// when those could not be read (the plan says why).
var errSiteUnread = errors.New("the site's status and catalogue were not read")

// startCourseRead asks Moodle for the courses names (sorted, without repeats), by id
// from the site's catalogue (moodle.ObserveEach).
func startCourseRead(ctx context.Context, client *moodle.Client, site *moodle.Site, names []string) *courseRead {
	return startRead(ctx, names, func(ctx context.Context, usernames func() []string, fn func(*state.Course) error, opts ...moodle.ObserveOption) (state.Directory, error) {
		return client.ObserveEach(ctx, site, names, usernames, fn, opts...)
	})
}

// startNamedCourseRead asks Moodle for the courses names (sorted, without repeats) by
// shortname, before site has the catalogue (moodle.ObserveNamed); their specs list
// users users. The first of its requests is the site's read's, which ahead carries.
func startNamedCourseRead(ctx context.Context, client *moodle.Client, site func() (*moodle.Site, error), names []string, users int, ahead *moodle.AheadRows) *courseRead {
	return startRead(ctx, names, func(ctx context.Context, usernames func() []string, fn func(*state.Course) error, opts ...moodle.ObserveOption) (state.Directory, error) {
		return client.ObserveNamed(ctx, site, names, usernames, fn, append(opts, moodle.ExpectRows(users), moodle.RowsAhead(ahead))...)
	})
}

// startRead starts observe, a read of the courses names. Until planInto, the read goes
// on as far as a short queue lets it: the server builds its first answers meanwhile.
// The users to look up and whether cohorts are read are asked of the desired state
// once it is known.
func startRead(ctx context.Context, names []string, observe func(ctx context.Context, usernames func() []string, fn func(*state.Course) error, opts ...moodle.ObserveOption) (state.Directory, error)) *courseRead {
	ctx, cancel := context.WithCancel(ctx)
	// A short queue: the reads decode ahead while every core plans, and a slow
	// planner holds the reads back rather than courses piling up.
	r := &courseRead{names: names, courses: make(chan *state.Course, 64), ready: make(chan struct{}), cancel: cancel, done: make(chan struct{})}
	go func() {
		defer close(r.done)
		r.dir, r.err = observe(ctx, func() []string {
			<-r.ready
			return r.users
		}, func(o *state.Course) error {
			select {
			case r.courses <- o:
				return nil
			case <-ctx.Done():
				return ctx.Err()
			}
		}, moodle.NeedCohortsOnce(func() bool {
			<-r.ready
			return r.cohorts
		}))
		close(r.courses)
	}()
	return r
}

// planInto hands every course read to planner, planned against desired by a pool of
// one goroutine per core, and returns the site's directory.
func (r *courseRead) planInto(desired state.Snapshot, planner *diff.Planner) (state.Directory, error) {
	// What the read asks of desired is asked now: the planner alone holds desired
	// from here on, and gives up each course's users once it is planned.
	r.once.Do(func() { r.users, r.cohorts = desired.Usernames(), desired.UsesCohorts(); close(r.ready) })
	// While the courses are planned, what lives is the plan, growing, and what is
	// dropped the courses read: the collector lets the heap grow by half what lives
	// (GOGC halved) rather than all of it, which was the command's peak (a
	// 10,000-course plan: 160 → 145 MB, at no measurable CPU).
	gogc := debug.SetGCPercent(-1)
	debug.SetGCPercent(cmp.Or(max(gogc/2, 0), gogc))
	defer debug.SetGCPercent(gogc)
	var wg sync.WaitGroup
	for range runtime.GOMAXPROCS(0) {
		wg.Go(func() {
			for o := range r.courses {
				if !planner.Course(o) {
					moodle.Recycle(o)
				}
			}
		})
	}
	wg.Wait()
	<-r.done
	return r.dir, r.err
}

// stop ends the read, if planInto did not take it, and waits for it.
func (r *courseRead) stop() {
	r.once.Do(func() { close(r.ready) })
	r.cancel()
	for range r.courses {
	}
	<-r.done
}

// readSiteAndSpecs connects to the site, reads its status and catalogue, and the specs
// against them (see readSiteAndSet).
func (a *App) readSiteAndSpecs(ctx context.Context) (conn *siteConn, site *moodle.Site, specs desiredSpecs, stopProgress func(), err error) {
	conn, site, set, stopProgress, err := a.readSiteAndSet(ctx, nil)
	if err != nil {
		return nil, nil, desiredSpecs{}, nil, err
	}
	return conn, site, a.resolveSpecs(set, site), stopProgress, nil
}

// specsCommit starts reading the commit HEAD points at in the repository holding the
// specs and whether they differ from it (a zero commit outside a repository), and
// returns what waits for it; an error when the configuration does not load, which
// connecting then says. It is read while the site and the specs are: go-git's status
// of a repository of 10,000 spec files takes 160-600 ms. For the sandbox, before
// connecting builds its demo site: the status walks the whole worktree, megabytes
// which on top of the site made a first sandbox plan's peak in a git checkout (29.6
// against 27.9 MiB).
func (a *App) specsCommit() func() (gitsrc.Commit, bool, error) {
	site, err := a.loadConfig()
	var c gitsrc.Commit
	var dirty bool
	done, sandbox := make(chan struct{}), err == nil && site.Sandbox
	go func() {
		defer close(done)
		if err != nil {
			return
		}
		dir := a.path(site.SpecsDir)
		if c, err = gitsrc.Head(dir); err == nil {
			dirty, _ = gitsrc.Dirty(dir)
		}
	}()
	if sandbox {
		<-done
	}
	return func() (gitsrc.Commit, bool, error) { <-done; return c, dirty, err }
}

// readSiteAndSet connects to the site, reads its status and catalogue, and the specs:
// from the start when the configuration names the site's time zone (readSpecsEarly;
// onEarly, unless nil, is then called with them as soon as they are read, before the
// site may have answered, and before readSiteAndSet returns), else as soon as the
// status is in, while the catalogue is read. On a terminal, a read that takes more
// than a second shows its progress until stopProgress is called.
//
// The site is then read once onEarly has said, through ahead, which courses the site's
// request should bring too (moodle.AheadRows; ahead.None for none): a plan reads the
// site and its first courses in one request, and the specs take less time to read
// than Moodle's bootstrap of a request saved; a folder that takes longer (tens of
// thousands of specs) lets the site's read go alone (moodle.AheadRows' wait).
func (a *App) readSiteAndSet(ctx context.Context, onEarly func(*siteConn, *spec.Set, *moodle.AheadRows)) (conn *siteConn, site *moodle.Site, set *spec.Set, stopProgress func(), err error) {
	if conn, err = a.connect(); err != nil {
		return nil, nil, nil, nil, err
	}
	stopProgress = a.startProgress("reading " + conn.describe())
	var specsErr error
	var onRead func(*spec.Set)
	var ahead *moodle.AheadRows
	if onEarly != nil {
		ahead = moodle.NewAheadRows()
		onRead = func(set *spec.Set) { onEarly(conn, set, ahead) }
	}
	early := a.readSpecsEarly(conn, onRead) // from now, while the site answers
	if early == nil {
		ahead = nil // onEarly is not called: nothing to wait for
	}
	site, err = conn.client.ReadSiteAhead(ctx, func(st moodle.SiteStatus) {
		if early != nil {
			set, specsErr = early.against(a, conn, st)
			return
		}
		set, specsErr = a.readSpecs(conn, &moodle.Site{Status: st})
	}, ahead)
	if early != nil {
		<-early.done // onEarly has returned, whatever the site answered
	}
	if err != nil {
		stopProgress()
		return nil, nil, nil, nil, siteReadError(conn, err)
	}
	if specsErr != nil {
		stopProgress()
		return nil, nil, nil, nil, specsErr
	}
	return conn, site, set, stopProgress, nil
}

// diffOptions are the site's and the flags' options of a plan of specs.
func (a *App) diffOptions(conn *siteConn, specs desiredSpecs, prov diff.Provenance) diff.Options {
	lim := applyFlags{}.limits(conn.site).Thresholds()
	return diff.Options{Location: conn.loc, Limits: &lim, SkipUnknownUsers: conn.site.SkipUnknownUsers,
		Approvals: diff.Approvals{Removals: a.approveRemovals}, SpecDiagnostics: specs.diags, Source: a.readFile, Provenance: prov}
}

func (a *App) planCommand() *cobra.Command {
	var out, format string
	var detailed bool
	cmd := &cobra.Command{
		Use:   "plan",
		Short: "Show what apply would change in Moodle",
		Long: `Plan reads the specs and the live state of the courses they manage, and shows the
changes that apply would make: + create, ~ update, - remove, per course. Identical
changes of a course read as one line with a count ("~ 1,108 manual enrolments: end
2026-06-30 → 2027-06-30, 160 reactivated"; --expand lists each one), and the objects
no spec manages are counted (--show-unmanaged lists them). Nothing is written to Moodle.

Objects made by hand where the specs say who belongs (a manual enrolment of a user the
course's spec does not list, a member of a declared group the spec does not list, an
enabled method no spec declares) are drift: named under "Drift:", whatever the flags,
and counted apart from the unmanaged objects.

Exit codes: 0 no changes (or changes without --detailed-exitcode), 1 error,
2 changes or drift present (with --detailed-exitcode).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if !slices.Contains(planFormats, format) {
				return fmt.Errorf("-o %s: want %s", format, formatList())
			}
			pl, err := a.makePlan(cmd.Context())
			if pl != nil && (err == nil || format != "text") {
				// With errors, json and markdown still carry them (CI posts them); the
				// text form shows them on stderr only.
				if err := a.renderPlan(pl.plan, format); err != nil {
					return err
				}
			}
			if err != nil {
				if pl != nil && out != "" {
					// Saved with its errors, so that CI can post them on the merge
					// request; it has no changes, so applying it does nothing.
					if werr := a.savePlan(out, pl); werr != nil {
						fmt.Fprintln(a.Err, "Warning:", werr)
					}
				}
				return err
			}
			if out != "" {
				if err := a.savePlan(out, pl); err != nil {
					return err
				}
				if format == "text" {
					fmt.Fprintf(a.Out, "\nSaved the plan to %s. Apply exactly this plan with: enrolctl apply %s\n", out, out)
				}
			}
			if pl.plan.HasDrift() && format != "text" {
				// The text form's last line says it; json and markdown go to files.
				fmt.Fprintln(a.Err, "Drift: "+render.DriftLine(pl.plan)+".")
			}
			if detailed && (pl.plan.HasChanges() || pl.plan.HasDrift()) {
				return errChanges
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&out, "out", "", "save the plan to this `FILE`, for enrolctl apply FILE")
	cmd.Flags().StringVarP(&format, "output", "o", "text", "output format: "+formatList())
	cmd.Flags().BoolVar(&detailed, "detailed-exitcode", false, "exit 2 when there are changes or drift (objects made by hand in managed scopes)")
	a.courseFlag(cmd)
	cmd.Flags().BoolVar(&a.approveRemovals, "allow-removals", false, "approve the plan's removals above the limits: the saved plan records it, and apply of that plan needs no flag (never in protected courses)")
	a.planViewFlags(cmd)
	cmd.Flags().StringVar(&a.changedSince, "changed-since", "", "only the courses whose spec files, or whose policies, changed since this git revision")
	return cmd
}

// planFormats are the forms of a plan (plan -o, show -o): text, the plan document
// (json), the reviewer's markdown, and GitLab's merge-request widget counts
// (terraform-report) and code quality report of the diagnostics (codequality).
var planFormats = []string{"text", "json", "markdown", "terraform-report", "codequality"}

func formatList() string {
	return strings.Join(planFormats[:len(planFormats)-1], ", ") + " or " + planFormats[len(planFormats)-1]
}

func (a *App) renderPlan(p diff.Plan, format string) error {
	switch format {
	case "json":
		return render.JSON(a.Out, p)
	case "terraform-report":
		return render.TerraformReport(a.Out, p)
	case "codequality":
		// The merge request shows these lines: usernames masked, as in its comment.
		return render.CodeQuality(a.Out, review.MaskDiagnostics(p.Diagnostics))
	case "markdown":
		// The reviewer's form: what blocks first, identical changes collapsed.
		return render.ReviewMarkdown(a.Out, p, render.ReviewOptions{ShowUnmanaged: a.showUnmanaged})
	default:
		return render.Text(a.Out, p, a.textOptions())
	}
}

// planViewFlags choose how much of the plan a reader sees; plan and apply (which shows
// the plan before asking) share them.
func (a *App) planViewFlags(cmd *cobra.Command) {
	cmd.Flags().BoolVar(&a.showUnmanaged, "show-unmanaged", false, "list the objects left alone, which no spec manages, instead of counting them")
	cmd.Flags().BoolVar(&a.expandPlan, "expand", false, "text: list every change on its own line instead of collapsing identical ones into a count")
}

// textOptions are the terminal plan's, from the flags.
func (a *App) textOptions() render.TextOptions {
	return render.TextOptions{Color: a.color(), Expand: a.expandPlan, ShowUnmanaged: a.showUnmanaged}
}

// savePlan saves the plan document to out: the very bytes `plan -o json` prints, and
// a signature when the site signs its plans (planKey).
func (a *App) savePlan(out string, pl *planned) error {
	key, err := a.planKey(pl.conn.site)
	if err != nil {
		return err
	}
	if err := refuseNonPlan(a.path(out), out); err != nil {
		return err
	}
	return writePlanFile(a.path(out), pl.plan, key)
}

// writePlanFile saves the plan document, signed under key when there is one.
func writePlanFile(path string, p diff.Plan, key []byte) error {
	var b bytes.Buffer
	if err := planfile.EncodeSigned(&b, p, key); err != nil {
		return err
	}
	if err := os.WriteFile(path, redact.Bytes(b.Bytes()), 0o644); err != nil {
		return fmt.Errorf("saving the plan: %w", err)
	}
	return nil
}

// readPlanFile reads a saved plan, validated whole before anything acts on it.
func readPlanFile(path string) (diff.Plan, error) {
	data, err := safefile.Read(path, planfile.MaxSize, "plan file")
	if err != nil {
		return diff.Plan{}, fmt.Errorf("reading the plan: %w", err)
	}
	read, err := decodePlanFile(path, data)
	if err != nil {
		return diff.Plan{}, err
	}
	return read.Plan, nil
}

// decodePlan reads and validates a plan file (a variable so that a test counts it:
// a saved plan is parsed and validated once).
var decodePlan = planfile.Read

// decodePlanFile decodes the saved plan read from path.
func decodePlanFile(path string, data []byte) (*planfile.Saved, error) {
	read, err := decodePlan(data)
	if err != nil {
		return nil, fmt.Errorf("%s is not a plan this enrolctl can apply: %w", path, err)
	}
	return read, nil
}

func (a *App) courseFlag(cmd *cobra.Command) {
	cmd.Flags().StringSliceVar(&a.courses, "course", nil, "only these courses (shortnames or globs such as L1-INFO-*; repeatable)")
}

// checkCoursePatterns refuses a --course pattern path.Match cannot read.
func checkCoursePatterns(patterns []string) error {
	for _, pat := range patterns {
		if _, err := path.Match(pat, ""); err != nil {
			return fmt.Errorf("--course %q: %v", pat, err)
		}
	}
	return nil
}

// courseSelected reports whether a --course pattern matches the course.
func (a *App) courseSelected(shortname string) bool {
	return slices.ContainsFunc(a.courses, func(pat string) bool { ok, _ := path.Match(pat, shortname); return ok })
}

// onlyCourses keeps the desired courses --course selects.
func (a *App) onlyCourses(desired state.Snapshot) (state.Snapshot, error) {
	if len(a.courses) == 0 {
		return desired, nil
	}
	if err := checkCoursePatterns(a.courses); err != nil {
		return desired, err
	}
	var kept []state.Course
	for _, c := range desired.Courses {
		if a.courseSelected(c.Shortname) {
			kept = append(kept, c)
		}
	}
	if len(kept) == 0 {
		return desired, fmt.Errorf("--course %s matches no course the specs manage%s", strings.Join(a.courses, ","), courseCase(a.courses, desired))
	}
	desired.Courses = kept
	return desired, nil
}

// courseCase suggests the shortnames patterns match but for case (l1-info-algo for
// L1-INFO-ALGO): shortnames are case-sensitive, as in Moodle.
func courseCase(patterns []string, desired state.Snapshot) string {
	var found []string
	for _, c := range desired.Courses {
		for _, pat := range patterns {
			if ok, _ := path.Match(strings.ToUpper(pat), strings.ToUpper(c.Shortname)); ok && !slices.Contains(found, c.Shortname) {
				found = append(found, c.Shortname)
			}
		}
	}
	if len(found) == 0 || len(found) > 5 {
		return ""
	}
	return fmt.Sprintf(" (shortnames are case-sensitive: did you mean %s?)", strings.Join(found, ", "))
}
