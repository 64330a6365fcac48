package apply

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"

	"golang.org/x/sync/errgroup"

	"github.com/enrolctl/enrolctl/internal/diff"
	"github.com/enrolctl/enrolctl/internal/moodle"
	"github.com/enrolctl/enrolctl/internal/state"
)

// Outcome is what happened to one change.
type Outcome string

const (
	Applied      Outcome = "applied"
	Failed       Outcome = "failed"
	NotAttempted Outcome = "not-attempted"
	// Unknown: the write was sent but neither its answer nor a re-read of the course
	// could tell whether it landed. The next plan shows it.
	Unknown Outcome = "unknown"
)

// ChangeResult is the outcome of one planned change.
type ChangeResult struct {
	Address   string      `json:"address"`
	Course    string      `json:"course"`
	Kind      diff.Kind   `json:"kind"`
	Action    diff.Action `json:"action"`
	Outcome   Outcome     `json:"outcome"`
	ErrorCode string      `json:"errorcode,omitempty"`
	Error     string      `json:"error,omitempty"`
}

// Result is the outcome of every change of a plan, in plan order.
type Result struct {
	Changes []ChangeResult `json:"changes"`
	// Interrupted says the run was stopped (its context cancelled, e.g. by SIGINT):
	// the calls in flight were finished and their outcomes recorded, nothing more was
	// sent, and the changes not sent are NotAttempted.
	Interrupted bool `json:"interrupted,omitempty"`
}

// Count returns how many changes ended with outcome o.
func (r Result) Count(o Outcome) int {
	n := 0
	for _, c := range r.Changes {
		if c.Outcome == o {
			n++
		}
	}
	return n
}

// OK reports whether every change was applied.
func (r Result) OK() bool { return r.Count(Applied) == len(r.Changes) }

// Options tune Run.
type Options struct {
	// Concurrency bounds how many courses are applied at once (default 4).
	Concurrency int
	// Progress, when set, is called once per change as it ends (from several goroutines,
	// one at a time).
	Progress func(ChangeResult)
	// Attempts bounds how often a course whose writes failed transiently (a timeout,
	// HTTP 5xx, a database write error) is re-read and its unapplied changes resent
	// within one run (default 3; 1 disables it).
	Attempts int
	// Settled, when set, is called with the final outcomes of some changes of a course
	// as soon as they are known (for the audit trail), one call at a time.
	Settled func(course string, results []ChangeResult)
}

// Run applies the plan's changes to Moodle. observed must be the state the plan's
// courses are in now (read after CheckStale), since ids are taken from it. Run returns
// an error only when it could not start; failures of changes are in the Result.
//
// Cancelling ctx stops the run between write calls, never during one: a call in
// flight is finished (its outcome verified and reported), and what was not sent is
// reported NotAttempted with Result.Interrupted set.
func Run(ctx context.Context, client *moodle.Client, p diff.Plan, observed state.Snapshot, opts Options) (Result, error) {
	stop := ctx
	ctx = context.WithoutCancel(ctx) // a write call, once sent, is seen through
	if opts.Concurrency <= 0 {
		opts.Concurrency = 4
	}
	if opts.Attempts <= 0 {
		opts.Attempts = 3
	}
	res := Result{Changes: make([]ChangeResult, len(p.Changes))}
	byCourse := map[string][]int{}
	var order []string
	for i, c := range p.Changes {
		res.Changes[i] = ChangeResult{Address: c.Address, Course: c.Course, Kind: c.Kind, Action: c.Action, Outcome: NotAttempted}
		if _, ok := byCourse[c.Course]; !ok {
			order = append(order, c.Course)
		}
		byCourse[c.Course] = append(byCourse[c.Course], i)
	}
	var mu sync.Mutex
	report := func(i int, o Outcome, err error) {
		mu.Lock()
		defer mu.Unlock()
		r := &res.Changes[i]
		r.Outcome = o
		if err != nil {
			r.Error = err.Error()
			r.ErrorCode = errorCode(err)
		}
		if opts.Progress != nil {
			opts.Progress(*r)
		}
	}
	settle := func(course string, idx []int) {
		if len(idx) == 0 || opts.Settled == nil {
			return
		}
		mu.Lock()
		defer mu.Unlock()
		out := make([]ChangeResult, len(idx))
		for j, i := range idx {
			out[j] = res.Changes[i]
		}
		opts.Settled(course, out)
	}
	var g errgroup.Group
	g.SetLimit(opts.Concurrency)
	for _, course := range order {
		idx := byCourse[course]
		g.Go(func() error {
			ca := &courseApply{client: client, plan: p, dir: observed.Directory, attempts: opts.Attempts, stop: stop}
			ca.report = func(i int, o Outcome, err error) {
				report(i, o, err)
				ca.unsettled = append(ca.unsettled, i)
			}
			ca.flush = func() { settle(course, ca.unsettled); ca.unsettled = nil }
			defer ca.flush()
			if stop.Err() != nil {
				return nil // interrupted before this course started
			}
			if o, ok := observed.Course(course); ok {
				ca.setCourse(*o)
			} else if id, ok := observed.Directory.Courses[course]; ok {
				ca.setCourse(state.Course{Shortname: course, ID: id})
			} else {
				err := fmt.Errorf("course %s does not exist on the site", course)
				for _, i := range idx {
					ca.report(i, Failed, err)
				}
				return nil
			}
			ca.run(ctx, idx)
			return nil
		})
	}
	_ = g.Wait() // course goroutines report through res and never fail the group
	res.Interrupted = stop.Err() != nil
	return res, nil
}

// courseApply applies the changes of one course, stage by stage.
type courseApply struct {
	client *moodle.Client
	plan   diff.Plan
	dir    state.Directory
	course state.Course
	report func(i int, o Outcome, err error)

	methodIDs map[string]int64 // method key -> instance id, observed then created
	groupIDs  map[string]int64 // group name -> id, observed then created
	attempts  int
	stop      context.Context // cancelled: send nothing more
	unsettled []int           // reported, not yet passed to Options.Settled
	flush     func()          // passes the unsettled outcomes to Options.Settled
}

func (ca *courseApply) run(ctx context.Context, idx []int) {
	pending := idx
	for attempt := 1; ; attempt++ {
		errs, skipped := ca.runStages(ctx, pending)
		if len(errs) == 0 && len(skipped) == 0 {
			return
		}
		if attempt >= ca.attempts || !anyRetryable(errs) || ca.stop.Err() != nil {
			ca.finish(errs, skipped)
			return
		}
		// Not a blind retry: read the course again and resend only the planned changes
		// that did not land (a lost response may hide a write that did).
		fresh, err := ca.reread(ctx)
		if err != nil {
			ca.finish(errs, skipped)
			return
		}
		ca.setCourse(fresh)
		pending = nil
		for _, i := range append(keys(errs), skipped...) {
			if satisfied(ca.plan.Changes[i], fresh) {
				ca.report(i, Applied, nil)
			} else {
				pending = append(pending, i)
			}
		}
		if len(pending) == 0 {
			return
		}
	}
}

// finish reports what is left after the last attempt.
func (ca *courseApply) finish(errs map[int]error, skipped []int) {
	for _, i := range keys(errs) {
		ca.report(i, Failed, errs[i])
	}
	for _, i := range skipped {
		ca.report(i, NotAttempted, nil)
	}
}

func keys(m map[int]error) []int {
	out := make([]int, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

func (ca *courseApply) setCourse(c state.Course) {
	ca.course = c
	ca.methodIDs = map[string]int64{}
	for _, m := range c.Methods {
		ca.methodIDs[m.Key()] = m.ID
	}
	ca.groupIDs = map[string]int64{}
	for _, g := range c.Groups {
		ca.groupIDs[g.Name] = g.ID
	}
}

func (ca *courseApply) reread(ctx context.Context) (state.Course, error) {
	states, err := ca.client.CourseStates(ctx, []int64{ca.course.ID})
	if err != nil {
		return state.Course{}, err
	}
	return moodle.ToCourse(states[0]), nil
}

// runStages applies changes stage by stage and reports those applied. It returns the
// failed changes with their errors, and those not attempted because an earlier stage
// of the course failed.
func (ca *courseApply) runStages(ctx context.Context, idx []int) (map[int]error, []int) {
	idx = slices.Clone(idx)
	slices.SortStableFunc(idx, func(a, b int) int { return diff.Stage(ca.plan.Changes[a]) - diff.Stage(ca.plan.Changes[b]) })
	errs := map[int]error{}
	for len(idx) > 0 {
		stage := diff.Stage(ca.plan.Changes[idx[0]])
		n := 0
		for n < len(idx) && diff.Stage(ca.plan.Changes[idx[n]]) == stage {
			n++
		}
		// One batch per kind and action, in plan order.
		batches := map[[2]string][]int{}
		var order [][2]string
		for _, i := range idx[:n] {
			c := ca.plan.Changes[i]
			k := [2]string{string(c.Kind), string(c.Action)}
			if _, ok := batches[k]; !ok {
				order = append(order, k)
			}
			batches[k] = append(batches[k], i)
		}
		for j, k := range order {
			if ca.stop.Err() != nil {
				var rest []int
				for _, k := range order[j:] {
					rest = append(rest, batches[k]...)
				}
				return errs, append(rest, idx[n:]...)
			}
			ca.batch(ctx, batches[k], errs)
			ca.flush()
		}
		idx = idx[n:]
		if len(errs) > 0 {
			return errs, idx // later stages depend on this one
		}
	}
	return errs, nil
}

// batch sends one kind of change, reports those applied and records failures in errs.
func (ca *courseApply) batch(ctx context.Context, idx []int, errs map[int]error) {
	err := ca.send(ctx, idx)
	if err == nil {
		for _, i := range idx {
			ca.report(i, Applied, nil)
		}
		return
	}
	var me *moodle.Error
	if len(idx) > 1 && errors.As(err, &me) {
		// Moodle rolled the batch back: find the failing items one by one.
		for _, i := range idx {
			if err := ca.send(ctx, []int{i}); err != nil {
				errs[i] = err
			} else {
				ca.report(i, Applied, nil)
			}
		}
		return
	}
	for _, i := range idx {
		errs[i] = err
	}
}

// errorCode is Moodle's errorcode, "transport" when no Moodle answer came, or
// "precondition" when enrolctl itself could not build the call (a group or method an
// earlier failure left missing).
func errorCode(err error) string {
	if code := moodle.Code(err); code != "" {
		return code
	}
	var te *moodle.TransportError
	if errors.As(err, &te) {
		return "transport"
	}
	return "precondition"
}

// transientCodes are Moodle errors that say nothing about the request itself.
var transientCodes = []string{"dmlwriteexception", "dmlreadexception", "dbtransactionfailed", "sitemaintenance"}

func anyRetryable(errs map[int]error) bool {
	for _, err := range errs {
		var te *moodle.TransportError
		if errors.As(err, &te) || slices.Contains(transientCodes, moodle.Code(err)) {
			return true
		}
	}
	return false
}

// send performs the writes for changes of one kind and action.
func (ca *courseApply) send(ctx context.Context, idx []int) error {
	changes := make([]diff.Change, len(idx))
	for j, i := range idx {
		changes[j] = ca.plan.Changes[i]
	}
	first := changes[0]
	switch {
	case first.Kind == diff.KindGroup && first.Action == diff.Create:
		items := make([]moodle.NewGroup, len(changes))
		for j, c := range changes {
			items[j] = moodle.NewGroup{CourseID: ca.course.ID, Name: c.Group.Name, Course: ca.course.Shortname}
		}
		ids, err := ca.client.CreateGroups(ctx, items)
		for j, id := range ids {
			ca.groupIDs[items[j].Name] = id
		}
		return err

	case first.Kind == diff.KindMethod && first.Action == diff.Create:
		items := make([]moodle.NewInstance, len(changes))
		for j, c := range changes {
			it, err := ca.newInstance(*c.Method)
			if err != nil {
				return err
			}
			items[j] = it
		}
		ids, err := ca.client.AddInstances(ctx, items)
		for j, id := range ids {
			ca.methodIDs[changes[j].Method.Key()] = id
		}
		return err

	case first.Kind == diff.KindMethod && first.Action == diff.Update:
		items := make([]moodle.InstanceUpdate, len(changes))
		for j, c := range changes {
			it, err := ca.instanceUpdate(*c.Method)
			if err != nil {
				return err
			}
			items[j] = it
		}
		_, err := ca.client.UpdateInstances(ctx, items)
		return err

	case first.Kind == diff.KindMethod && first.Action == diff.Delete:
		ids := make([]int64, len(changes))
		for j, c := range changes {
			id, err := ca.methodID(c.Method.Key())
			if err != nil {
				return err
			}
			ids[j] = id
		}
		_, err := ca.client.DeleteInstances(ctx, ids, ca.course.Shortname)
		return err

	case first.Kind == diff.KindEnrolment && (first.Action == diff.Create || first.Action == diff.Update):
		items := make([]moodle.EnrolmentState, len(changes))
		for j, c := range changes {
			it, err := ca.enrolmentState(*c.Enrolment)
			if err != nil {
				return err
			}
			items[j] = it
		}
		_, err := ca.client.SetEnrolments(ctx, items)
		return err

	case first.Kind == diff.KindEnrolment && first.Action == diff.Delete:
		items := make([]moodle.Unenrolment, len(changes))
		for j, c := range changes {
			inst, err := ca.methodID(c.Enrolment.Method)
			if err != nil {
				return err
			}
			uid, err := ca.userID(c.Enrolment.Username)
			if err != nil {
				return err
			}
			items[j] = moodle.Unenrolment{InstanceID: inst, UserID: uid, Course: ca.course.Shortname, Username: c.Enrolment.Username}
		}
		_, err := ca.client.UnenrolUsers(ctx, items)
		return err

	case first.Kind == diff.KindMember && (first.Action == diff.Create || first.Action == diff.Delete):
		items := make([]moodle.Membership, len(changes))
		for j, c := range changes {
			gid, ok := ca.groupIDs[c.GroupName]
			if !ok {
				return fmt.Errorf("course %s: group %q does not exist", ca.course.Shortname, c.GroupName)
			}
			uid, err := ca.userID(c.Member.Username)
			if err != nil {
				return err
			}
			items[j] = moodle.Membership{GroupID: gid, UserID: uid, Course: ca.course.Shortname, Username: c.Member.Username}
		}
		var err error
		if first.Action == diff.Create {
			_, err = ca.client.AddMembers(ctx, items)
		} else {
			_, err = ca.client.RemoveMembers(ctx, items)
		}
		return err
	}
	return fmt.Errorf("course %s: enrolctl cannot %s a %s (%s)", ca.course.Shortname, first.Action, first.Kind, first.Address)
}

func (ca *courseApply) methodID(key string) (int64, error) {
	if id, ok := ca.methodIDs[key]; ok && id != 0 {
		return id, nil
	}
	return 0, fmt.Errorf("course %s: method %s does not exist", ca.course.Shortname, key)
}

func (ca *courseApply) userID(username string) (int64, error) {
	if id, ok := ca.dir.Users[username]; ok {
		return id, nil
	}
	return 0, fmt.Errorf("course %s: user %s does not exist on the site", ca.course.Shortname, username)
}

func (ca *courseApply) roleID(shortname string) (int64, error) {
	if shortname == "" {
		return 0, nil
	}
	if id, ok := ca.dir.Roles[shortname]; ok {
		return id, nil
	}
	return 0, fmt.Errorf("course %s: role %s does not exist on the site", ca.course.Shortname, shortname)
}

func (ca *courseApply) groupID(name string) (int64, error) {
	if name == "" {
		return 0, nil
	}
	if id, ok := ca.groupIDs[name]; ok {
		return id, nil
	}
	return 0, fmt.Errorf("course %s: group %q does not exist", ca.course.Shortname, name)
}

func (ca *courseApply) newInstance(m state.Method) (moodle.NewInstance, error) {
	it := moodle.NewInstance{CourseID: ca.course.ID, Enrol: string(m.Type), Disabled: !m.Enabled, Course: ca.course.Shortname}
	var err error
	switch m.Type {
	case state.Self:
		it.Name, it.MaxEnrolled = m.Name, m.MaxUsers
		it.RoleID, err = ca.roleID(m.Role)
	case state.Cohort:
		co, ok := ca.dir.Cohorts[m.Cohort]
		if !ok {
			return it, fmt.Errorf("course %s: cohort %s does not exist on the site", ca.course.Shortname, m.Cohort)
		}
		it.CohortID = co.ID
		if it.RoleID, err = ca.roleID(m.Role); err == nil {
			it.GroupID, err = ca.groupID(m.Group)
		}
	case state.Meta:
		id, ok := ca.dir.Courses[m.Course]
		if !ok {
			return it, fmt.Errorf("course %s: linked course %s does not exist on the site", ca.course.Shortname, m.Course)
		}
		it.LinkedCourseID = id
		it.GroupID, err = ca.groupID(m.Group)
	}
	return it, err
}

func (ca *courseApply) instanceUpdate(m state.Method) (moodle.InstanceUpdate, error) {
	id, err := ca.methodID(m.Key())
	if err != nil {
		return moodle.InstanceUpdate{}, err
	}
	disabled := !m.Enabled
	it := moodle.InstanceUpdate{ID: id, Disabled: &disabled, Course: ca.course.Shortname}
	switch m.Type {
	case state.Self:
		role, err := ca.roleID(m.Role)
		if err != nil {
			return it, err
		}
		maxUsers := m.MaxUsers
		it.RoleID, it.MaxEnrolled = &role, &maxUsers
	case state.Cohort, state.Meta:
		gid, err := ca.groupID(m.Group)
		if err != nil {
			return it, err
		}
		it.GroupID = &gid
	}
	return it, nil
}

func (ca *courseApply) enrolmentState(e state.Enrolment) (moodle.EnrolmentState, error) {
	inst, err := ca.methodID(e.Method)
	if err != nil {
		return moodle.EnrolmentState{}, err
	}
	uid, err := ca.userID(e.Username)
	if err != nil {
		return moodle.EnrolmentState{}, err
	}
	var role int64
	if len(e.Roles) > 0 {
		if role, err = ca.roleID(e.Roles[0]); err != nil {
			return moodle.EnrolmentState{}, err
		}
	}
	return moodle.EnrolmentState{InstanceID: inst, UserID: uid, RoleID: role, TimeStart: e.Start, TimeEnd: e.End,
		Suspended: e.Suspended, Course: ca.course.Shortname, Username: e.Username}, nil
}
