package diff

import (
	"cmp"
	"slices"
	"strings"
	"time"

	"github.com/enrolctl/enrolctl/internal/diag"
	"github.com/enrolctl/enrolctl/internal/state"
)

// Options are the site facts and guard settings a plan is made with.
type Options struct {
	// Location is the site's time zone, recorded in the plan (Plan.Timezone) for
	// showing dates; nil means UTC. It never changes which changes are planned.
	Location *time.Location
	// Limits are the removal limits Guard checks the plan against; nil means
	// DefaultLimits.
	Limits *Limits
	// Approvals are what the planner approved (Approvals.Removals lifts the limits).
	Approvals Approvals
	// SpecDiagnostics are the specs' own findings, reported with the site checks' in
	// one list: all of them in one run.
	SpecDiagnostics diag.Diagnostics
	// Source reads a file, for the source line each diagnostic shows; nil shows none.
	Source func(file string) ([]byte, error)
	// Provenance is what only the caller knows, recorded as it is.
	Provenance Provenance
	// SkipUnknownUsers (the site's unknown_users: skip) plans every other change when
	// the specs list users the site does not have yet, warning about each of them
	// (skipUnknownUsers); by default an unknown user is an error and nothing is planned.
	SkipUnknownUsers bool
}

// Provenance is where a plan comes from: when it was made (RFC 3339), for which site,
// from which commit of the specs (and whether the work tree had changes), and the
// digest of the specs and configuration it was made from.
type Provenance struct {
	CreatedAt, Site, Commit string
	Dirty                   bool
	SpecsDigest             string
}

// Compute plans the changes that turn observed into desired, with the default options.
// It is a pure, deterministic function: no I/O, and equal inputs give equal plans.
func Compute(desired, observed state.Snapshot) Plan {
	return ComputeWithOptions(desired, observed, Options{})
}

// ComputeWithOptions builds the whole plan document: its provenance, the specs' and the
// site checks' diagnostics, the ordered changes with what each removal takes away, the
// unmanaged objects, the fingerprints of the courses it changes, the protected courses,
// and the refusals apply will make. The caller only prints and saves it.
func ComputeWithOptions(desired, observed state.Snapshot, opts Options) Plan {
	loc := orUTC(opts.Location)
	lim := DefaultLimits()
	if opts.Limits != nil {
		lim = *opts.Limits
	}
	pr := opts.Provenance
	p := Plan{FormatVersion: FormatVersion, Timezone: loc.String(), Changes: []Change{}, Limits: lim, Approvals: opts.Approvals,
		CreatedAt: pr.CreatedAt, Site: pr.Site, Commit: pr.Commit, Dirty: pr.Dirty, SpecsDigest: pr.SpecsDigest}
	for _, c := range desired.Courses {
		if c.Options.Protect {
			p.Protected = append(p.Protected, c.Shortname)
		}
	}
	slices.Sort(p.Protected)
	p.Protected = slices.Compact(p.Protected)

	live := make(map[string]*state.Course, len(observed.Courses))
	for i := range observed.Courses {
		if _, dup := live[observed.Courses[i].Shortname]; !dup {
			live[observed.Courses[i].Shortname] = &observed.Courses[i]
		}
	}

	order := make([]int, len(desired.Courses))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(a, b int) int {
		return strings.Compare(desired.Courses[a].Shortname, desired.Courses[b].Shortname)
	})

	p.Diagnostics = Check(desired, observed)
	if opts.SkipUnknownUsers {
		desired, p.Diagnostics = skipUnknownUsers(desired, p.Diagnostics)
	}
	if !p.Diagnostics.HasErrors() { // the site checks' errors leave nothing to plan
		p.planCourses(desired, order, live)
	}
	// One list: the specs' own findings and the plan's.
	p.Diagnostics = append(slices.Clone(opts.SpecDiagnostics), p.Diagnostics...).Sort()
	if opts.Source != nil {
		p.Diagnostics = p.Diagnostics.WithSource(opts.Source)
	}
	// Nothing is planned while an error stands: a half plan would be reviewed as whole.
	if p.Diagnostics.HasErrors() {
		p.Changes, p.Unmanaged, p.Drift = []Change{}, nil, nil
		return p
	}
	p.Fingerprints = map[string]string{}
	for _, course := range p.Courses() {
		if o := live[course]; o != nil {
			p.Fingerprints[course] = o.ManagedFingerprint()
		}
	}
	if len(p.Fingerprints) == 0 {
		p.Fingerprints = nil
	}
	p.Refusals = Guard(p.Changes, p.Protected, observed, p.Limits, p.Approvals)
	return p
}

// planCourses plans each desired course, in order, against its live course.
func (p *Plan) planCourses(desired state.Snapshot, order []int, live map[string]*state.Course) {
	// Each course's planner (its indexes over both courses) is dropped as soon as its
	// changes are copied out: a site-wide plan otherwise holds 10,000 planners' maps at
	// once. One scratch slice collects every course's changes in turn; each course
	// keeps an exact copy, concatenated once at the end (appending to one growing
	// slice instead leaves several times the plan's size in garbage).
	seen := map[string]bool{}
	var courseDiags diag.Diagnostics
	var scratch []Change
	var perCourse [][]Change
	total := 0
	// Each planner's unmanaged objects and drift are its own slices, kept as they are
	// and concatenated once: appending them to one growing slice copied 75,000 drift
	// items over and over on a 10,000-course site.
	var unmanaged [][]Unmanaged
	var drift [][]Drift
	nUnmanaged, nDrift := 0, 0
	ints := &intValues{}
	var prev *coursePlanner
	for _, i := range order {
		d := &desired.Courses[i]
		if seen[d.Shortname] {
			continue // spec.Load refuses a course declared twice; the first one wins here
		}
		seen[d.Shortname] = true
		o, ok := live[d.Shortname]
		if !ok {
			// spec.Resolve refuses courses the catalogue lacks; this is a course the
			// caller did not read from Moodle, which must not be planned as empty.
			p.Diagnostics = append(p.Diagnostics, diag.Errorf(courseAt(d), "course %s was not read from Moodle; nothing can be planned for it", d.Shortname))
			continue
		}
		cp := newCoursePlanner(d, o, prev)
		prev = cp
		cp.changes = scratch[:0]
		cp.ints = ints
		cp.plan()
		perCourse = append(perCourse, slices.Clone(cp.changes))
		total += len(cp.changes)
		if len(cp.unmanaged) > 0 {
			unmanaged, nUnmanaged = append(unmanaged, cp.unmanaged), nUnmanaged+len(cp.unmanaged)
		}
		if len(cp.drift) > 0 {
			drift, nDrift = append(drift, cp.drift), nDrift+len(cp.drift)
		}
		courseDiags = append(courseDiags, cp.diags...)
		scratch = cp.changes
		clear(scratch) // its pointers now live in perCourse alone
	}
	p.Diagnostics = append(p.Diagnostics, courseDiags...)
	p.Unmanaged = slices.Grow(p.Unmanaged, nUnmanaged)
	for _, u := range unmanaged {
		p.Unmanaged = append(p.Unmanaged, u...)
	}
	p.Drift = slices.Grow(p.Drift, nDrift)
	for _, d := range drift {
		p.Drift = append(p.Drift, d...)
	}
	p.Changes = slices.Grow(p.Changes, total)
	for i, changes := range perCourse {
		p.Changes = append(p.Changes, changes...)
		perCourse[i] = nil // collectable as soon as it is copied
	}

	if !slices.IsSortedFunc(p.Changes, compareChanges) { // courses are planned in order already
		slices.SortStableFunc(p.Changes, compareChanges)
	}
	slices.SortStableFunc(p.Unmanaged, func(a, b Unmanaged) int {
		return cmp.Or(strings.Compare(a.Course, b.Course), strings.Compare(a.Address, b.Address))
	})
	slices.SortStableFunc(p.Drift, compareDrift)
}

// coursePlanner plans one course. Its maps are indexes over the two courses; the
// planned* fields record what earlier steps decided, because later steps depend on
// them (a membership needs the user enrolled after the plan, a method deletion must
// not also unenrol its users one by one).
type coursePlanner struct {
	d, o *state.Course

	liveMethods   map[string]state.Method       // by key; first instance when Moodle has duplicates
	liveGroups    map[string]*state.Group       // by name; pointers into o.Groups, never written
	liveEnrolByM  map[string][]*state.Enrolment // pointers into o.Enrolments, never written
	liveEnrolOfU  map[string][]*state.Enrolment
	manualDeclare bool // the specs manage the manual method (declared, or implied by enrolments)

	deletedMethods map[string]bool   // method keys this plan deletes
	createdManual  map[string]bool   // usernames that get a new manual enrolment
	unenrolled     map[string]bool   // usernames whose manual enrolment this plan deletes
	renewedBy      map[string]string // usernames a policy's renew selected -> the policy

	ints *intValues // shared by every course of one plan

	// Scratch sets of one step at a time (planEnrolments, planMemberships), emptied
	// before each use and handed on like the maps above: a large site otherwise
	// allocates several per course and group.
	doneNames, declaredNames, seenNames map[string]bool
	liveMemberOf                        map[string]state.Member

	changes   []Change
	unmanaged []Unmanaged
	drift     []Drift
	diags     diag.Diagnostics
}

// newCoursePlanner makes the planner of one course. With prev (the planner of the
// course before, done with), its maps are emptied and reused: a site's 10,000
// courses otherwise allocate seven maps each.
func newCoursePlanner(d, o *state.Course, prev *coursePlanner) *coursePlanner {
	cp := &coursePlanner{d: d, o: o}
	if prev != nil {
		cp.liveMethods, cp.liveGroups = prev.liveMethods, prev.liveGroups
		cp.liveEnrolByM, cp.liveEnrolOfU = prev.liveEnrolByM, prev.liveEnrolOfU
		cp.deletedMethods, cp.createdManual, cp.unenrolled = prev.deletedMethods, prev.createdManual, prev.unenrolled
		cp.doneNames, cp.declaredNames, cp.seenNames, cp.liveMemberOf = prev.doneNames, prev.declaredNames, prev.seenNames, prev.liveMemberOf
		clear(cp.liveMethods)
		clear(cp.liveGroups)
		clear(cp.liveEnrolByM)
		clear(cp.liveEnrolOfU)
		clear(cp.deletedMethods)
		clear(cp.createdManual)
		clear(cp.unenrolled)
	} else {
		cp.liveMethods = make(map[string]state.Method, len(o.Methods))
		cp.liveGroups = make(map[string]*state.Group, len(o.Groups))
		cp.liveEnrolByM = make(map[string][]*state.Enrolment, len(o.Methods))
		cp.liveEnrolOfU = make(map[string][]*state.Enrolment, len(o.Enrolments))
		cp.deletedMethods, cp.createdManual, cp.unenrolled = map[string]bool{}, map[string]bool{}, map[string]bool{}
		cp.doneNames, cp.declaredNames, cp.seenNames, cp.liveMemberOf = map[string]bool{}, map[string]bool{}, map[string]bool{}, map[string]state.Member{}
	}
	for i := range o.Groups {
		if _, dup := cp.liveGroups[o.Groups[i].Name]; !dup {
			cp.liveGroups[o.Groups[i].Name] = &o.Groups[i]
		}
	}
	for _, m := range o.Methods {
		if _, dup := cp.liveMethods[m.Key()]; !dup {
			cp.liveMethods[m.Key()] = m
		}
	}
	for i := range o.Enrolments {
		e := &o.Enrolments[i]
		cp.liveEnrolByM[e.Method] = append(cp.liveEnrolByM[e.Method], e)
		cp.liveEnrolOfU[e.Username] = append(cp.liveEnrolOfU[e.Username], e)
	}
	return cp
}

func (cp *coursePlanner) plan() {
	cp.planMethods()
	cp.planGroups()
	cp.planEnrolments()
	cp.labelRenewals()
	cp.planMemberships()
	cp.restoreSyncedMemberships()
	slices.SortStableFunc(cp.changes, compareChanges)
	cp.fillRemovals()
}

// userError records an error about a user of the course, with its code and subject.
func (cp *coursePlanner) userError(src state.Source, code diag.Code, user, format string, args ...any) {
	cp.diags = append(cp.diags, errorAt(src, format, args...).About(code, diag.Subject{Course: cp.d.Shortname, User: user}))
}

func (cp *coursePlanner) add(c Change) {
	c.Course = cp.d.Shortname
	cp.changes = append(cp.changes, c)
}
