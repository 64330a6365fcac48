package diff

import (
	"cmp"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
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
// and the refusals apply will make. The caller only prints and saves it. It is a
// Planner fed every observed course in turn: a plan streamed course by course is the
// same document.
func ComputeWithOptions(desired, observed state.Snapshot, opts Options) Plan {
	pl := NewPlanner(desired, opts)
	pl.keepAll = true // the caller holds them anyway
	for i := range observed.Courses {
		pl.Course(&observed.Courses[i])
	}
	p, _ := pl.Plan(observed.Directory)
	return p
}

// Planner plans a site one observed course at a time, as a streamed read hands them
// over: each course is planned as soon as it arrives, on the caller's goroutine, and
// only what the plan needs of it is kept, not the course. Plan then makes what
// spans the site (the checks against the site's directory, unknown users, the
// ordering, the fingerprints, the refusals) once every course is in.
type Planner struct {
	desired state.Snapshot
	opts    Options
	slot    map[string]int // shortname -> its course's slot, in shortname order
	slots   []courseSlot
	// keepAll keeps every observed course, for planning again without unknown users
	// whatever the directory holds (ComputeWithOptions, whose caller holds them).
	keepAll bool

	mu      sync.Mutex
	scratch []*plannerScratch // idle scratch, one per goroutine planning at once
}

// courseSlot is what the plan keeps of one desired course (the first one of its
// shortname in shortname order) and its observed course.
type courseSlot struct {
	d       int         // index in desired.Courses
	claimed atomic.Bool // the observed course arrived; later ones of the name are ignored
	// methods are the observed course's methods, all Check needs of it.
	methods []state.Method
	id      int64
	// kept is the observed course itself, kept only when the plan needs it later:
	// a course the plan removes something from (Guard counts its enrolments, and so
	// does apply's), or one that names users the course does not have, which an
	// unknown_users: skip may make planned again without them.
	kept *state.Course

	changes     []Change
	unmanaged   []Unmanaged
	drift       []Drift
	diags       diag.Diagnostics
	fingerprint string // of the observed course, when it has changes
	removes     bool   // a change takes something away
}

// plannerScratch is what one goroutine reuses from course to course: the last course's
// planner (its maps, emptied), the change list, the shared integer values.
type plannerScratch struct {
	prev    *coursePlanner
	changes []Change
	ints    intValues
}

// NewPlanner starts the plan of desired; desired must not change until Plan returns.
// The planner lets go of each desired course's users once it is planned (release),
// in its own list of the courses: a caller that drops desired gets that memory back.
func NewPlanner(desired state.Snapshot, opts Options) *Planner {
	order := make([]int, len(desired.Courses))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(a, b int) int {
		return strings.Compare(desired.Courses[a].Shortname, desired.Courses[b].Shortname)
	})
	// The planner's own list of the courses: each planned one gives up what the plan
	// no longer reads of it (release), and the caller's is never written.
	desired.Courses = slices.Clone(desired.Courses)
	pl := &Planner{desired: desired, opts: opts, slot: make(map[string]int, len(order))}
	pl.slots = make([]courseSlot, 0, len(order))
	for _, i := range order {
		name := desired.Courses[i].Shortname
		if _, dup := pl.slot[name]; dup {
			continue // spec.Load refuses a course declared twice; the first one wins here
		}
		pl.slot[name] = len(pl.slots)
		pl.slots = append(pl.slots, courseSlot{d: i})
	}
	return pl
}

// Course plans the desired course of o's shortname against o, if the specs have one
// and no course of that name came before. It may be called from several goroutines at
// once. It reports whether the plan keeps o, which must then not change; otherwise the
// plan keeps only o's methods, and the caller may reuse the rest (o's enrolments: a
// read of 100,000 courses otherwise allocates 360 MB of them, an eighth of all it
// allocates). The directory Plan is given must hold every user of the observed courses.
func (pl *Planner) Course(o *state.Course) (kept bool) {
	i, ok := pl.slot[o.Shortname]
	if !ok {
		return false
	}
	s := &pl.slots[i]
	if !s.claimed.CompareAndSwap(false, true) {
		return false
	}
	s.methods, s.id = o.Methods, o.ID
	d := &pl.desired.Courses[s.d]
	sc := pl.takeScratch()
	defer pl.putScratch(sc)
	pl.planCourse(s, d, o, sc)
	others := sc.prev.namesOthers()
	if pl.opts.SkipUnknownUsers && (pl.keepAll || others) {
		s.kept = o
	}
	if !pl.keepAll && !others {
		release(d, sc.prev.liveMethods)
	}
	// The planner of the next course on this goroutine empties the maps that point
	// into o's enrolments, and reads nothing through them.
	return s.kept == o
}

// release drops a planned course's enrolments, groups and renewals, and the methods
// the observed course has (live, by key) but for cohorts, when what Plan still reads
// of them (Check) can find nothing there: every user it names is one the observed
// course holds, hence one the directory has, its enrolments are manual, and its
// manual method is declared; a live method of a known type is wrong only when its
// cohort is unknown. A 10,000-course site's desired state is otherwise held whole
// until the plan is made, next to the plan.
func release(d *state.Course, live map[string]state.Method) {
	if slices.ContainsFunc(d.Enrolments, func(e state.Enrolment) bool { return e.Method != "" && e.Method != string(state.Manual) }) ||
		len(d.Enrolments) > 0 && !slices.ContainsFunc(d.Methods, func(m state.Method) bool { return m.Type == state.Manual }) {
		return
	}
	d.Enrolments, d.Groups, d.Renewals = nil, nil, nil
	var checked []state.Method // a new list: the spec's would hold them all
	for _, m := range d.Methods {
		if _, ok := live[m.Key()]; !ok || m.Type == state.Cohort || !m.Type.Known() {
			checked = append(checked, m)
		}
	}
	d.Methods = checked
}

// planCourse plans d against o into s, replacing what s held.
func (pl *Planner) planCourse(s *courseSlot, d, o *state.Course, sc *plannerScratch) {
	// Each course's planner (its indexes over both courses) is reused for the next:
	// only its changes, copied out at their size, stay with the plan.
	cp := newCoursePlanner(d, o, sc.prev)
	sc.prev = cp
	cp.changes = sc.changes[:0]
	cp.ints = &sc.ints
	cp.plan()
	s.changes = slices.Clone(cp.changes)
	s.unmanaged, s.drift, s.diags = cp.unmanaged, cp.drift, cp.diags
	// Sorted here, on the planning goroutines, as Plan lists them.
	slices.SortStableFunc(s.unmanaged, compareUnmanaged)
	slices.SortStableFunc(s.drift, compareDrift)
	sc.changes = cp.changes
	clear(sc.changes) // its pointers now live in s.changes alone
	s.fingerprint = ""
	if len(s.changes) > 0 {
		s.fingerprint = o.ManagedFingerprint()
	}
	if s.removes = slices.ContainsFunc(s.changes, Change.IsRemoval); s.removes {
		s.kept = o
	}
}

// namesOthers reports whether the course names a user (enrolled or a group member)
// whom the observed course does not hold: only such a user can be unknown to the site,
// whose directory holds every user of every observed course (as moodle.ObserveEach
// reads it).
func (cp *coursePlanner) namesOthers() bool {
	held := func(u string) bool {
		if len(cp.liveEnrolOfU[u]) > 0 {
			return true
		}
		for _, g := range cp.o.Groups { // a member without an enrolment: seldom
			if slices.ContainsFunc(g.Members, func(m state.Member) bool { return m.Username == u }) {
				return true
			}
		}
		return false
	}
	for _, e := range cp.d.Enrolments {
		if !held(e.Username) {
			return true
		}
	}
	for _, g := range cp.d.Groups {
		for _, m := range g.Members {
			if !held(m.Username) {
				return true
			}
		}
	}
	return false
}

func (pl *Planner) takeScratch() *plannerScratch {
	pl.mu.Lock()
	defer pl.mu.Unlock()
	if n := len(pl.scratch); n > 0 {
		sc := pl.scratch[n-1]
		pl.scratch = pl.scratch[:n-1]
		return sc
	}
	return &plannerScratch{}
}

func (pl *Planner) putScratch(sc *plannerScratch) {
	pl.mu.Lock()
	defer pl.mu.Unlock()
	pl.scratch = append(pl.scratch, sc)
}

// FromCommit records in the plan's provenance the git commit its specs came from,
// which the caller may learn only while the courses are planned.
func (pl *Planner) FromCommit(hash string, dirty bool) {
	pl.opts.Provenance.Commit, pl.opts.Provenance.Dirty = hash, dirty
}

// Plan makes the plan document once every observed course was handed to Course, with
// the site's directory (users, cohorts, roles, courses, enabled plugins). It also
// returns what it kept of the observed state: the directory and the observed courses
// the plan removes something from, which is what Guard and apply's guard read.
func (pl *Planner) Plan(dir state.Directory) (Plan, state.Snapshot) {
	desired, opts := pl.desired, pl.opts
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

	// Check reads of each observed course only its methods; the slots are in
	// shortname order, as Snapshot.Course's search needs.
	seen := state.Snapshot{Directory: dir, Courses: make([]state.Course, 0, len(pl.slots))}
	kept := state.Snapshot{Directory: dir}
	for i := range pl.slots {
		s := &pl.slots[i]
		if !s.claimed.Load() {
			continue
		}
		seen.Courses = append(seen.Courses, state.Course{Shortname: desired.Courses[s.d].Shortname, ID: s.id, Methods: s.methods})
	}
	p.Diagnostics = Check(desired, seen)
	for i := range pl.slots {
		pl.slots[i].methods = nil // read by Check alone: not held while the lists are put together
	}
	if opts.SkipUnknownUsers {
		// The courses with users the site lacks are planned again without them (the
		// unknown-user errors skipUnknownUsers turns into warnings).
		again := map[string]bool{}
		for _, d := range p.Diagnostics {
			if d.Code == diag.UnknownUser && d.Severity == diag.Error {
				again[d.Subject.Course] = true
			}
		}
		desired, p.Diagnostics = skipUnknownUsers(desired, p.Diagnostics)
		sc := &plannerScratch{}
		for course := range again {
			s := &pl.slots[pl.slot[course]]
			if s.kept != nil {
				pl.planCourse(s, &desired.Courses[s.d], s.kept, sc)
			}
		}
	}
	if !p.Diagnostics.HasErrors() { // the site checks' errors leave nothing to plan
		p.gather(pl.slots, desired)
	}
	// One list: the specs' own findings and the plan's.
	p.Diagnostics = append(slices.Clone(opts.SpecDiagnostics), p.Diagnostics...).Sort()
	if opts.Source != nil {
		p.Diagnostics = p.Diagnostics.WithSource(opts.Source)
	}
	// Nothing is planned while an error stands: a half plan would be reviewed as whole.
	if p.Diagnostics.HasErrors() {
		p.Changes, p.Unmanaged, p.Drift = []Change{}, nil, nil
		return p, kept
	}
	p.Fingerprints = map[string]string{}
	for i := range pl.slots {
		if s := &pl.slots[i]; s.fingerprint != "" { // a course with changes
			p.Fingerprints[desired.Courses[s.d].Shortname] = s.fingerprint
		}
	}
	if len(p.Fingerprints) == 0 {
		p.Fingerprints = nil
	}
	for i := range pl.slots {
		if o := pl.slots[i].kept; o != nil && pl.slots[i].removes {
			kept.Courses = append(kept.Courses, *o)
		}
	}
	p.Refusals = Guard(p.Changes, p.Protected, kept, p.Limits, p.Approvals)
	return p, kept
}

// gather puts the courses' plans together, in shortname order.
func (p *Plan) gather(slots []courseSlot, desired state.Snapshot) {
	// Each course's changes, unmanaged objects and drift are its own slices, kept as
	// they are and concatenated once: appending them to one growing slice copied
	// 75,000 drift items over and over on a 10,000-course site.
	var courseDiags diag.Diagnostics
	total, nUnmanaged, nDrift := 0, 0, 0
	for i := range slots {
		s := &slots[i]
		if !s.claimed.Load() {
			// spec.Resolve refuses courses the catalogue lacks; this is a course the
			// caller did not read from Moodle, which must not be planned as empty.
			d := &desired.Courses[s.d]
			p.Diagnostics = append(p.Diagnostics, diag.Errorf(courseAt(d), "course %s was not read from Moodle; nothing can be planned for it", d.Shortname))
			continue
		}
		total, nUnmanaged, nDrift = total+len(s.changes), nUnmanaged+len(s.unmanaged), nDrift+len(s.drift)
		courseDiags = append(courseDiags, s.diags...)
	}
	p.Diagnostics = append(p.Diagnostics, courseDiags...)
	p.Changes = make([]Change, total)
	if nUnmanaged > 0 {
		p.Unmanaged = make([]Unmanaged, nUnmanaged)
	}
	if nDrift > 0 {
		p.Drift = make([]Drift, nDrift)
	}
	// Copied on every core: the plan of a large site is tens of megabytes.
	parts := min(runtime.GOMAXPROCS(0), max(1, total/4096))
	var at struct{ changes, unmanaged, drift int }
	var wg sync.WaitGroup
	for part := range parts {
		lo, hi := part*len(slots)/parts, (part+1)*len(slots)/parts
		from := at
		for i := lo; i < hi; i++ {
			at.changes += len(slots[i].changes)
			at.unmanaged += len(slots[i].unmanaged)
			at.drift += len(slots[i].drift)
		}
		wg.Go(func() {
			for i := lo; i < hi; i++ {
				s := &slots[i]
				from.changes += copy(p.Changes[from.changes:], s.changes)
				from.unmanaged += copy(p.Unmanaged[from.unmanaged:], s.unmanaged)
				from.drift += copy(p.Drift[from.drift:], s.drift)
				s.changes, s.unmanaged, s.drift = nil, nil, nil // collectable as soon as copied
			}
		})
	}
	wg.Wait()

	// Each course's lists are sorted as it is planned (planCourse), and the courses
	// come in shortname order: sorting is left only for a Course field that differs
	// from its course's shortname, which the planner never writes.
	if !slices.IsSortedFunc(p.Changes, compareChanges) {
		slices.SortStableFunc(p.Changes, compareChanges)
	}
	if !slices.IsSortedFunc(p.Unmanaged, compareUnmanaged) {
		slices.SortStableFunc(p.Unmanaged, compareUnmanaged)
	}
	if !slices.IsSortedFunc(p.Drift, compareDrift) {
		slices.SortStableFunc(p.Drift, compareDrift)
	}
}

func compareUnmanaged(a, b Unmanaged) int {
	return cmp.Or(strings.Compare(a.Course, b.Course), strings.Compare(a.Address, b.Address))
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
