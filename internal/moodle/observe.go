package moodle

import (
	"cmp"
	"context"
	"errors"
	"slices"
	"strings"
	"sync"
	"sync/atomic"

	"golang.org/x/sync/errgroup"

	"github.com/enrolctl/enrolctl/internal/contract"
	"github.com/enrolctl/enrolctl/internal/state"
)

// Site is what enrolctl reads once per run about the whole site.
type Site struct {
	Status    SiteStatus
	Catalogue []CourseRef
	byName    map[string]CourseRef
}

// CourseByName returns the catalogue entry of a course shortname.
func (s *Site) CourseByName(shortname string) (CourseRef, bool) {
	r, ok := s.byName[shortname]
	return r, ok
}

// ReadSite reads the site status and the course catalogue: in one call when the plugin
// answers both (contract.PluginCoursesWithStatus), else at the same time.
func (c *Client) ReadSite(ctx context.Context) (*Site, error) {
	return c.ReadSiteWith(ctx, nil)
}

// ReadSiteWith is ReadSite calling onStatus (unless nil) with the status as soon as it
// is read, while the rest of the catalogue, the longer read, is still under way: what
// needs only the status starts then. It returns once onStatus has returned too.
//
// The status comes with the catalogue's first page (get_courses withstatus): Moodle's
// bootstrap of a request is most of what either costs. A plugin older than 2.3.0
// refuses that (invalidparameter): the status and the catalogue are then read apart,
// at the same time, as before.
func (c *Client) ReadSiteWith(ctx context.Context, onStatus func(SiteStatus)) (*Site, error) {
	return c.ReadSiteAhead(ctx, onStatus, nil)
}

// ReadSiteAhead is ReadSiteWith whose request also carries the first courses of a read
// by name that ahead says it wants (nil: none), once it says so (AheadRows): the status,
// the catalogue's first page and those courses come in one request (plugin 2.4.0). A
// plugin older than 2.4.0 refuses that (invalidparameter): the read by name then asks
// for them itself, and the site is read as ReadSiteWith reads it.
func (c *Client) ReadSiteAhead(ctx context.Context, onStatus func(SiteStatus), ahead *AheadRows) (*Site, error) {
	names, err := ahead.wanted(ctx)
	if err != nil {
		return nil, err
	}
	status, first, total, rows, err := c.statusAndCatalogue(ctx, names)
	if names != nil {
		refused := err != nil && Code(err) == "invalidparameter"
		switch {
		case refused || (err == nil && (status == nil || rows == nil)):
			ahead.answer <- aheadAnswer{} // the read by name asks itself
		case err != nil:
			ahead.answer <- aheadAnswer{err: err}
		default:
			ahead.answer <- aheadAnswer{rows: rows}
		}
		if refused {
			status, first, total, _, err = c.statusAndCatalogue(ctx, nil)
		}
	}
	if err == nil && status != nil {
		g, gctx := errgroup.WithContext(ctx)
		var cat []CourseRef
		g.Go(func() (err error) { cat, err = c.catalogueRest(gctx, first, total, catalogueV2); return err })
		if onStatus != nil {
			onStatus(*status)
		}
		if err := g.Wait(); err != nil {
			return nil, err
		}
		return newSite(*status, cat), nil
	}
	if err != nil && Code(err) != "invalidparameter" {
		return nil, err
	}
	var st SiteStatus
	var cat []CourseRef
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() (err error) {
		if st, err = c.SiteStatus(gctx); err == nil && onStatus != nil {
			onStatus(st)
		}
		return err
	})
	g.Go(func() (err error) { cat, err = c.Catalogue(gctx); return err })
	if err := g.Wait(); err != nil {
		return nil, err
	}
	return newSite(st, cat), nil
}

func newSite(st SiteStatus, cat []CourseRef) *Site {
	s := &Site{Status: st, Catalogue: cat, byName: make(map[string]CourseRef, len(cat))}
	for _, r := range cat {
		s.byName[r.Shortname] = r
	}
	return s
}

// ObserveOption tunes Observe.
type ObserveOption func(*observeOptions)

type observeOptions struct {
	cohorts func() bool
	rows    int
	ahead   *AheadRows
}

func optionsOf(opts []ObserveOption) observeOptions {
	o := observeOptions{cohorts: func() bool { return true }}
	for _, opt := range opts {
		opt(&o)
	}
	return o
}

// NeedCohorts says whether Observe reads the site's cohorts (by default it does): only
// specs with cohort methods need them, and the search is one of the slowest reads.
func NeedCohorts(need bool) ObserveOption {
	return func(o *observeOptions) { o.cohorts = func() bool { return need } }
}

// NeedCohortsOnce is NeedCohorts asked of need once the read is under way (it may
// wait: the courses are read meanwhile), for a caller that knows only then.
func NeedCohortsOnce(need func() bool) ObserveOption {
	return func(o *observeOptions) { o.cohorts = need }
}

// ExpectRows tells ObserveNamed that the courses hold about n rows (the users their
// specs list): a read of many rows is sent in two parts (eachCourseByName).
func ExpectRows(n int) ObserveOption {
	return func(o *observeOptions) { o.rows = n }
}

// RowsAhead has ObserveNamed send its first part with the site's read, which
// ReadSiteAhead makes with the same ahead (see AheadRows); its other part goes at
// once rather than after the site's status.
func RowsAhead(ahead *AheadRows) ObserveOption {
	return func(o *observeOptions) { o.ahead = ahead }
}

// Observe reads the observed state of the named courses (those absent from the site
// are left out), sorted by shortname, and the directory facts a plan is checked
// against (see ObserveEach).
func (c *Client) Observe(ctx context.Context, site *Site, courses, usernames []string, opts ...ObserveOption) (state.Snapshot, error) {
	out := make([]state.Course, 0, len(courses))
	var mu sync.Mutex
	dir, err := c.ObserveEach(ctx, site, courses, func() []string { return usernames }, func(course *state.Course) error {
		mu.Lock()
		defer mu.Unlock()
		out = append(out, *course)
		return nil
	}, opts...)
	if err != nil {
		return state.Snapshot{}, err
	}
	// Each course is normalised by ToCourse; only their order is left.
	slices.SortFunc(out, func(a, b state.Course) int { return strings.Compare(a.Shortname, b.Shortname) })
	return state.Snapshot{Courses: out, Directory: dir}, nil
}

// ObserveEach reads the observed state of the named courses (those absent from the
// site are left out) and hands each one to fn as soon as it is read, converted, from
// several goroutines at once and in no set order: the caller keeps what it needs of
// them, and a large site is never held whole. fn owns the course it is given; an
// error from fn stops the read. It then returns the directory facts a plan is
// checked against: the ids of the usernames usernames returns, every cohort, every
// role, every course and the enabled plugins. usernames is called once, while the
// courses are read: listing a large site's users takes a while, and they are needed
// only once the courses are in.
//
// Courses are read in parallel batches. Users that the courses already name are not
// looked up; the others are, in parallel batches, once the courses are in. The cohort
// search runs alongside the course reads.
func (c *Client) ObserveEach(ctx context.Context, site *Site, courses []string, usernames func() []string, fn func(*state.Course) error, opts ...ObserveOption) (state.Directory, error) {
	ids := site.ids(uniqueSorted(courses))
	return c.observe(ctx, func() (*Site, error) { return site, nil }, func(ctx context.Context, each courseFunc) error {
		return c.eachCourseState(ctx, ids, 0, true, func(_ int, cs *CourseState, users courseUsers) error { return each(cs, users) })
	}, usernames, fn, optionsOf(opts))
}

// ObserveNamed is ObserveEach begun before the site is read, by a caller that knows
// the courses' names first (a plan, from its spec files): the courses are asked for
// by shortname at once (plugin contract.PluginRowsByName), while site (which may wait
// for the site's read, and is called from several goroutines) is needed only for the
// courses' categories and the directory. With an older plugin, which refuses names
// (or has no get_course_rows), the courses are read by id once site returns, as
// ObserveEach reads them.
func (c *Client) ObserveNamed(ctx context.Context, site func() (*Site, error), courses []string, usernames func() []string, fn func(*state.Course) error, opts ...ObserveOption) (state.Directory, error) {
	names := uniqueSorted(courses)
	o := optionsOf(opts)
	defer o.ahead.None() // a read that ends before asking frees the site's read
	return c.observe(ctx, site, func(ctx context.Context, each courseFunc) error {
		handed := atomic.Bool{}
		// Batches after the first wait for the site: each course read waits for it
		// (its category) while holding one of the client's connections, and were every
		// connection so held, the site's own read could never finish.
		later := func() (bool, error) {
			s, err := site()
			return err == nil && s.Status.PluginVersion >= contract.PluginRowsByName, err
		}
		err := c.eachCourseByName(ctx, names, o.rows, o.ahead, later, func(cs *CourseState, answer *rowUsers) error {
			handed.Store(true)
			return each(cs, courseUsers{answer: answer})
		})
		var refused *Error
		if err == nil || handed.Load() || !errors.As(err, &refused) {
			return err // read, or failed on the way: the read's own outcome
		}
		// Moodle refused the call: a plugin before 2.2.0 answers invalidparameter,
		// one before get_course_rows (2.1.0) that the function does not exist.
		s, serr := site()
		if serr != nil {
			return serr
		}
		if s.Status.PluginVersion >= contract.PluginRowsByName {
			return err // the plugin takes names: the error is this read's own
		}
		return c.eachCourseState(ctx, s.ids(names), 0, true, func(_ int, cs *CourseState, users courseUsers) error { return each(cs, users) })
	}, usernames, fn, o)
}

// ids are the ids of the courses named that the site has, in the order named.
func (s *Site) ids(names []string) []int64 {
	var ids []int64
	for _, name := range names {
		if r, ok := s.byName[name]; ok {
			ids = append(ids, r.ID)
		}
	}
	return ids
}

// courseFunc takes a course read, and the users its read brings besides the course.
type courseFunc func(cs *CourseState, users courseUsers) error

// courseUsers are the users a course read brings besides the course's own lists: the
// course's (get_course_state since Contract v2), or, read lite, the users table of
// the get_course_rows answer it came in, which holds every user of its courses:
// observe learns those once an answer rather than once a course (3 million map
// writes at 100,000 courses).
type courseUsers struct {
	refs   []userRef
	answer *rowUsers
}

// observe is ObserveEach and ObserveNamed: read hands each course read to each.
func (c *Client) observe(ctx context.Context, site func() (*Site, error), read func(context.Context, courseFunc) error, usernames func() []string, fn func(*state.Course) error, o observeOptions) (state.Directory, error) {
	users := map[string]int64{}
	var mu sync.Mutex
	var cohorts []Cohort
	var wanted []string
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error { wanted = usernames(); return nil })
	var readCohorts bool
	g.Go(func() (err error) {
		if readCohorts = o.cohorts(); readCohorts {
			cohorts, err = c.Cohorts(gctx)
		}
		return err
	})
	g.Go(func() error {
		return read(gctx, func(cs *CourseState, known courseUsers) error {
			s, err := site()
			if err != nil {
				return err
			}
			course := ToCourse(*cs)
			if r, ok := s.byName[cs.Shortname]; ok {
				course.Category = r.CategoryPath
			}
			mu.Lock()
			if a := known.answer; a != nil {
				if !a.learnt {
					a.learnt = true
					for i, u := range a.list {
						users[u.username] = a.ids[i]
					}
				}
			} else {
				for _, u := range known.refs {
					users[u.Username] = u.ID
				}
				knownUsers(cs, users)
			}
			mu.Unlock()
			return fn(&course)
		})
	})
	if err := g.Wait(); err != nil {
		return state.Directory{}, err
	}
	s, err := site()
	if err != nil {
		return state.Directory{}, err
	}
	var missing []string
	for _, u := range wanted {
		if _, ok := users[u]; !ok {
			missing = append(missing, u)
		}
	}
	found, err := c.UserIDs(ctx, missing)
	if err != nil {
		return state.Directory{}, err
	}
	for u, id := range found {
		users[u] = id
	}
	dir := state.Directory{
		Users:          users,
		Roles:          make(map[string]int64, len(s.Status.Roles)),
		Courses:        make(map[string]int64, len(s.Catalogue)),
		EnabledPlugins: s.Status.EnabledPlugins,
	}
	if readCohorts {
		dir.Cohorts = make(map[string]state.CohortInfo, len(cohorts))
		for _, co := range cohorts {
			if co.IDNumber != "" {
				dir.Cohorts[co.IDNumber] = state.CohortInfo{ID: co.ID}
			}
		}
	}
	for _, r := range s.Status.Roles {
		dir.Roles[r.Shortname] = r.ID
	}
	for _, r := range s.Catalogue {
		dir.Courses[r.Shortname] = r.ID
	}
	return dir, nil
}

// knownUsers adds the users a course names to users: those it lists (Contract v2), and
// those of its enrolments and group members, which exist since Moodle holds them.
func knownUsers(cs *CourseState, users map[string]int64) {
	for _, u := range cs.Users {
		users[u.Username] = u.ID
	}
	for _, e := range cs.Enrolments {
		users[e.Username] = e.UserID
	}
	for _, m := range cs.Members {
		users[m.Username] = m.UserID
	}
}

// ToCourse normalises one course as the plugin returns it into the state model.
// A site-wide plan converts every course: the indexes it works with are reused from
// one course to the next (toCourseScratch), and the enrolments are built in the order
// Normalize wants, sorting small keys rather than the enrolments.
func ToCourse(cs CourseState) state.Course {
	sc := toCourseScratches.Get().(*toCourseScratch)
	defer toCourseScratches.Put(sc)
	course := state.Course{Shortname: cs.Shortname, ID: cs.CourseID, Methods: make([]state.Method, 0, len(cs.Instances)), LinkedFrom: cs.LinkedFrom}
	methods := sc.methods[:0]
	for _, in := range cs.Instances {
		m := MethodOf(in)
		k, known := state.KindOf(m.Type)
		methods = append(methods, instanceMethod{id: in.ID, key: m.Key(), plain: known && !k.Synced})
		course.Methods = append(course.Methods, m)
	}
	// By id, for a binary search; of two instances with one id, the last one counts.
	slices.SortStableFunc(methods, func(a, b instanceMethod) int { return cmp.Compare(a.id, b.id) })
	sc.methods = methods
	// Plain roles (component '', item -1 here) belong to manual and self enrolments;
	// plugin roles to their instance. Sorted by (item, user), each enrolment's roles are one
	// run, found by binary search: no map per course.
	ras := sc.ras[:0]
	for _, ra := range cs.Roles {
		h := heldRole{item: -1, user: ra.UserID, role: ra.RoleShortname}
		if ra.Component != "" {
			h.item = ra.ItemID
		}
		ras = append(ras, h)
	}
	slices.SortFunc(ras, compareHeld)
	sc.ras = ras
	// The enrolments kept, sorted by key (state.CompareEnrolmentKeys) and then by read
	// order, as Normalize's stable sort leaves them.
	order := sc.order[:0]
	for i, ue := range cs.Enrolments {
		if m, ok := lastByID(methods, ue.InstanceID, methodID); ok {
			order = append(order, enrolmentAt{key: m.key, username: ue.Username, at: i, plain: m.plain})
		} // else an instance deleted between the two reads of one query set
	}
	slices.SortFunc(order, func(a, b enrolmentAt) int {
		return cmp.Or(state.CompareKeys(a.key, a.username, b.key, b.username), cmp.Compare(a.at, b.at))
	})
	sc.order = order
	// Every enrolment's roles are a window of one array: one allocation per course
	// rather than per enrolment. Windows are capped, so an append copies.
	roles := make([]string, 0, len(cs.Roles))
	course.Enrolments = enrolmentList(len(order))
	for _, o := range order {
		ue := &cs.Enrolments[o.at]
		e := state.Enrolment{
			Username: ue.Username, UserID: ue.UserID, Method: o.key,
			Start: ue.TimeStart, End: ue.TimeEnd, Suspended: ue.Status != 0,
		}
		key := heldRole{item: ue.InstanceID, user: ue.UserID}
		if o.plain {
			key.item = -1 // plain roles
		}
		at := len(roles)
		i, _ := slices.BinarySearchFunc(ras, key, compareHeld)
		for ; i < len(ras) && ras[i].item == key.item && ras[i].user == key.user; i++ {
			roles = append(roles, ras[i].role)
		}
		if len(roles) > at {
			e.Roles = roles[at:len(roles):len(roles)]
		}
		course.Enrolments = append(course.Enrolments, e)
	}
	// Members likewise: one array, a window per group.
	groups := sc.groups[:0]
	course.Groups = make([]state.Group, 0, len(cs.Groups))
	for _, g := range cs.Groups {
		groups = append(groups, groupAt{id: g.ID, at: len(course.Groups)})
		course.Groups = append(course.Groups, state.Group{Name: g.Name, ID: g.ID})
	}
	slices.SortStableFunc(groups, func(a, b groupAt) int { return cmp.Compare(a.id, b.id) })
	sc.groups = groups
	counts := slices.Grow(sc.counts[:0], 2*len(course.Groups)+1)[:2*len(course.Groups)+1]
	clear(counts)
	sc.counts = counts
	for _, gm := range cs.Members {
		if g, ok := lastByID(groups, gm.GroupID, groupID); ok {
			counts[g.at+1]++
		}
	}
	for i := 1; i <= len(course.Groups); i++ {
		counts[i] += counts[i-1] // counts[i]: where group i's members start
	}
	members := make([]state.Member, counts[len(course.Groups)])
	next := counts[len(course.Groups)+1:]
	copy(next, counts[:len(course.Groups)])
	for _, gm := range cs.Members {
		if g, ok := lastByID(groups, gm.GroupID, groupID); ok {
			members[next[g.at]] = state.Member{Username: gm.Username, Component: gm.Component, ItemID: gm.ItemID}
			next[g.at]++
		}
	}
	for i := range course.Groups {
		if lo, hi := counts[i], counts[i+1]; hi > lo {
			course.Groups[i].Members = members[lo:hi:hi]
		}
	}
	course.Normalize()
	return course
}
