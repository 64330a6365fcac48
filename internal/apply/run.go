package apply

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

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
	Address string      `json:"address"`
	Course  string      `json:"course"`
	Kind    diff.Kind   `json:"kind"`
	Action  diff.Action `json:"action"`
	// User is the user an enrolment or membership change is about.
	User      string  `json:"user,omitempty"`
	Outcome   Outcome `json:"outcome"`
	ErrorCode string  `json:"errorcode,omitempty"`
	Error     string  `json:"error,omitempty"`
}

// Result is the outcome of every change of a plan, in plan order.
type Result struct {
	Changes []ChangeResult `json:"changes"`
	// Interrupted says the run was stopped before its end (its context cancelled by
	// SIGINT or SIGTERM or a lost lease, or the audit record failing) with changes
	// left: the call in flight was finished (or, past Options.Grace, given up: its
	// changes are Unknown), nothing more was sent, and the changes not sent are
	// NotAttempted. Stopped says why.
	Interrupted bool   `json:"interrupted,omitempty"`
	Stopped     string `json:"stopped,omitempty"`
	// WriteCalls counts the write calls made (resends by the client included).
	WriteCalls int `json:"write_calls,omitempty"`
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
	// Progress, when set, is called once per change as it ends, one call at a time.
	Progress func(ChangeResult)
	// Attempts bounds how often changes whose write failed transiently or whose
	// outcome was unknown are resent, after a re-read of their course showed they did
	// not land (default 3; 1 disables resending).
	Attempts int
	// Settled, when set, is called with the final outcomes of some changes of a course
	// as soon as they are known (for the audit trail), one call at a time. An error
	// (the audit record could not be written) stops the run before its next write
	// call: nothing is applied that cannot be recorded.
	Settled func(course string, results []ChangeResult) error
	// Retry, when set, is called before each write call is sent again (by the client
	// after a lost answer, or after a re-read showed changes that did not land), to
	// say it and record it. An error stops the run as Settled's does.
	Retry func(Retry) error
	// Grace bounds the wait for the write call in flight once the run is stopped
	// (default 15s); past it the call is given up and its changes are Unknown.
	Grace time.Duration
}

// Run applies the plan's changes to Moodle. observed must be the state the plan's
// courses are in now (read after CheckStale), since ids are taken from it. Run returns
// an error only when it could not start; failures of changes are in the Result.
//
// Writes go stage by stage across all courses (diff.Stage: groups, methods,
// enrolments, memberships, removals, restored memberships), one local_enrolctl_write
// call per kind of change and stage, so that courses sharing users are never written
// concurrently and a thousand renewals take one call. A course whose change failed
// stops there: its later stages are not attempted; other courses go on.
//
// Cancelling ctx stops the run between write calls: the call in flight is finished
// (its outcome verified and reported) if it ends within Options.Grace, else given up
// and its changes reported Unknown; nothing is sent again, and what was not sent is
// reported NotAttempted with Result.Interrupted set. A failing Options.Settled or
// Options.Retry (the audit record) stops it the same way.
func Run(ctx context.Context, client *moodle.Client, p diff.Plan, observed state.Snapshot, opts Options) (Result, error) {
	if opts.Attempts <= 0 {
		opts.Attempts = 3
	}
	if opts.Grace <= 0 {
		opts.Grace = 15 * time.Second
	}
	r := &runner{client: client, plan: p, dir: observed.Directory, opts: opts, stop: ctx, halted: make(chan struct{}),
		courses: map[string]*courseRun{}, res: Result{Changes: make([]ChangeResult, len(p.Changes))}}
	// A write call, once sent, is seen through: a stop ends it only after Grace.
	wctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	defer cancel()
	done := make(chan struct{})
	defer close(done)
	go func(stop context.Context) {
		select {
		case <-stop.Done():
		case <-r.halted:
		case <-done:
			return
		}
		select {
		case <-time.After(opts.Grace):
			cancel()
		case <-done:
		}
	}(ctx)
	ctx = moodle.WithWriteHooks(wctx, moodle.WriteHooks{BeforeResend: r.onResend, Stop: r.stopCh(done)})
	for i, c := range p.Changes {
		r.res.Changes[i] = ChangeResult{Address: c.Address, Course: c.Course, Kind: c.Kind, Action: c.Action, User: changeUser(c), Outcome: NotAttempted}
		if _, ok := r.courses[c.Course]; ok {
			continue
		}
		cr := &courseRun{}
		if o, ok := observed.Course(c.Course); ok {
			cr.set(*o)
		} else if id, ok := observed.Directory.Courses[c.Course]; ok {
			cr.set(state.Course{Shortname: c.Course, ID: id})
		} else {
			cr.set(state.Course{Shortname: c.Course})
			cr.stopped = true
		}
		r.courses[c.Course] = cr
	}
	for i, c := range p.Changes {
		if cr := r.courses[c.Course]; cr.course.ID == 0 {
			r.report(i, Failed, fmt.Errorf("course %s does not exist on the site", c.Course))
		}
	}
	r.flush()
	r.run(ctx)
	if why := r.stopped(); why != "" {
		for _, c := range r.res.Changes {
			if c.Outcome == NotAttempted || c.Outcome == Unknown {
				r.res.Interrupted, r.res.Stopped = true, why
				break
			}
		}
	}
	return r.res, nil
}

// runner applies one plan.
type runner struct {
	client *moodle.Client
	plan   diff.Plan
	dir    state.Directory
	opts   Options
	stop   context.Context // cancelled: send nothing more
	// halted is closed, and haltErr set, when recording failed: send nothing more.
	halted   chan struct{}
	haltOnce sync.Once
	haltErr  error

	mu        sync.Mutex
	res       Result
	courses   map[string]*courseRun
	reported  []bool
	unsettled []int // reported, not yet passed to Options.Settled
}

// courseRun is what the run knows of one course.
type courseRun struct {
	course    state.Course
	methodIDs map[string]int64 // method key -> instance id, observed then created
	groupIDs  map[string]int64 // group name -> id, observed then created
	// stopped: a change failed (or the course is missing), so its later stages are
	// not attempted.
	stopped bool
	// failed: a change of the current stage failed; stopped once the stage ends.
	failed bool
}

func (cr *courseRun) set(c state.Course) {
	cr.course = c
	cr.methodIDs = map[string]int64{}
	for _, m := range c.Methods {
		cr.methodIDs[m.Key()] = m.ID
	}
	cr.groupIDs = map[string]int64{}
	for _, g := range c.Groups {
		cr.groupIDs[g.Name] = g.ID
	}
}

// halt stops the run because its record could not be written.
func (r *runner) halt(err error) {
	r.haltOnce.Do(func() {
		r.mu.Lock()
		r.haltErr = err
		r.mu.Unlock()
		close(r.halted)
	})
}

// stopped says why the run must send nothing more, or "".
func (r *runner) stopped() string {
	select {
	case <-r.halted:
		r.mu.Lock()
		defer r.mu.Unlock()
		return r.haltErr.Error()
	default:
	}
	if r.stop.Err() != nil {
		if cause := context.Cause(r.stop); cause != nil && !errors.Is(cause, context.Canceled) {
			return cause.Error()
		}
		return "interrupted"
	}
	return ""
}

// stopCh is closed once the run is stopped or halted (or done: Run returned).
func (r *runner) stopCh(done <-chan struct{}) <-chan struct{} {
	ch := make(chan struct{})
	go func() {
		select {
		case <-r.stop.Done():
		case <-r.halted:
		case <-done:
		}
		close(ch)
	}()
	return ch
}

// onResend says and records a resend; it refuses it once the run is stopped.
func (r *runner) onResend(rs moodle.Resend) error {
	if why := r.stopped(); why != "" {
		return errors.New(why)
	}
	if r.opts.Retry == nil {
		return nil
	}
	reason := "no answer"
	if rs.Reason != nil {
		reason = rs.Reason.Error()
	}
	if err := r.opts.Retry(Retry{Function: rs.Function, Courses: rs.Courses, Items: rs.Items, Attempt: rs.Attempt,
		Attempts: rs.Attempts, Reason: reason}); err != nil {
		r.halt(err)
		return err
	}
	return nil
}

func (r *runner) report(i int, o Outcome, err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.reported == nil {
		r.reported = make([]bool, len(r.res.Changes))
	}
	if r.reported[i] {
		return
	}
	r.reported[i] = true
	c := &r.res.Changes[i]
	c.Outcome = o
	if err != nil {
		c.Error = err.Error()
		c.ErrorCode = errorCode(err)
	}
	if o != Applied {
		r.courses[c.Course].failed = true
	}
	if r.opts.Progress != nil {
		r.opts.Progress(*c)
	}
	r.unsettled = append(r.unsettled, i)
}

// flush passes the outcomes reported since the last flush to Options.Settled, one
// call per course.
func (r *runner) flush() {
	r.mu.Lock()
	idx := r.unsettled
	r.unsettled = nil
	r.mu.Unlock()
	if r.opts.Settled == nil || len(idx) == 0 {
		return
	}
	slices.Sort(idx)
	slices.SortStableFunc(idx, func(a, b int) int { return cmp.Compare(r.plan.Changes[a].Course, r.plan.Changes[b].Course) })
	for len(idx) > 0 {
		course := r.plan.Changes[idx[0]].Course
		n := 0
		for n < len(idx) && r.plan.Changes[idx[n]].Course == course {
			n++
		}
		out := make([]ChangeResult, n)
		for j, i := range idx[:n] {
			out[j] = r.res.Changes[i]
		}
		if err := r.opts.Settled(course, out); err != nil {
			r.halt(err)
		}
		idx = idx[n:]
	}
}

// run goes through the stages in order, across courses.
func (r *runner) run(ctx context.Context) {
	byStage := map[int][]int{}
	var stages []int
	for i, c := range r.plan.Changes {
		s := diff.Stage(c)
		if _, ok := byStage[s]; !ok {
			stages = append(stages, s)
		}
		byStage[s] = append(byStage[s], i)
	}
	slices.Sort(stages)
	for _, s := range stages {
		// One call per kind and action, in plan order.
		ops := map[opKey][]int{}
		var order []opKey
		for _, i := range byStage[s] {
			c := r.plan.Changes[i]
			if r.courses[c.Course].stopped {
				continue
			}
			k := opKey{c.Kind, c.Action}
			if _, ok := ops[k]; !ok {
				order = append(order, k)
			}
			ops[k] = append(ops[k], i)
		}
		for _, k := range order {
			if r.stopped() != "" {
				return // the rest stays NotAttempted
			}
			r.op(ctx, ops[k])
			r.flush()
		}
		for _, cr := range r.courses {
			if cr.failed {
				cr.stopped = true
			}
		}
	}
}
