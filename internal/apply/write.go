package apply

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/enrolctl/enrolctl/internal/diff"
	"github.com/enrolctl/enrolctl/internal/moodle"
	"github.com/enrolctl/enrolctl/internal/state"
)

// The write of one stage: a local_enrolctl_write call per kind and action across
// courses (op), what each course's answer settles (outcomes), re-reading courses whose
// outcome is unknown (resolve), and sending again what did not land.

type opKey struct {
	kind   diff.Kind
	action diff.Action
}

// op writes changes of one kind and action, across courses, and reports each. A
// course that rolled back because one of its items failed is resent without it; items
// whose outcome is unknown are resolved by re-reading their course, and those that
// did not land are resent up to Options.Attempts times.
func (r *runner) op(ctx context.Context, idx []int) {
	pending := idx
	attempt, first := 1, true
	why := "" // why pending is sent again
	for len(pending) > 0 {
		if !first && r.stopped() != "" {
			for _, i := range pending {
				r.report(i, NotAttempted, nil)
			}
			return
		}
		if !first && r.opts.Retry != nil {
			// Sent again after a re-read showed they did not land: said and recorded.
			courses := map[string]bool{}
			for _, i := range pending {
				courses[r.plan.Changes[i].Course] = true
			}
			if err := r.opts.Retry(Retry{Function: "local_enrolctl_write", Courses: len(courses), Items: len(pending),
				Attempt: attempt, Attempts: r.opts.Attempts, Reason: why}); err != nil {
				r.halt(err)
				for _, i := range pending {
					r.report(i, NotAttempted, nil)
				}
				return
			}
		}
		first = false
		send, sent := r.build(pending)
		if len(sent) == 0 {
			return
		}
		wr, callErr := send(ctx, r.client)
		r.res.WriteCalls += max(wr.Calls, 1)
		rollback, notSent, unknown := r.outcomes(sent, wr, callErr)
		lastTry := attempt >= r.opts.Attempts || r.stopped() != ""
		again := r.resolve(ctx, unknown, callErrOr(callErr, wr), lastTry)
		if len(unknown) > 0 || len(notSent) > 0 {
			attempt++
		}
		if lastTry {
			for _, i := range notSent {
				r.report(i, NotAttempted, callErrOr(callErr, wr))
			}
			notSent = nil
		}
		pending = append(append(rollback, notSent...), again...)
		switch {
		case len(again) > 0:
			why = "a re-read of the course showed they did not land"
		case len(rollback) > 0:
			why = "their course rolled back at another item, which failed"
		default:
			why = "an earlier call of the write failed as a whole"
		}
		slices.Sort(pending)
	}
}

// outcomes reports what each course's answer settles (applied, or failed at an item)
// and sorts the rest of sent: items to send again after their course rolled back at
// another item, items not sent, and items whose outcome is unknown.
func (r *runner) outcomes(sent []int, wr moodle.WriteResult, callErr error) (rollback, notSent, unknown []int) {
	itemsOf := map[int64][]int{} // course id -> positions in sent
	var courseOrder []int64
	for k, i := range sent {
		id := r.courses[r.plan.Changes[i].Course].course.ID
		if _, ok := itemsOf[id]; !ok {
			courseOrder = append(courseOrder, id)
		}
		itemsOf[id] = append(itemsOf[id], k)
	}
	for _, id := range courseOrder {
		ks := itemsOf[id]
		o, ok := wr.Course(id)
		if !ok {
			o = moodle.CourseOutcome{CourseID: id, Outcome: moodle.Unknown, Index: -1,
				Err: cmp.Or(callErr, error(fmt.Errorf("moodle: the write's answer has no outcome for course id %d", id)))}
		}
		switch o.Outcome {
		case moodle.Applied:
			r.applied(sent, ks, o.IDs)
		case moodle.Failed:
			err := cmp.Or(o.Err, callErr, error(&moodle.Error{ErrorCode: o.ErrorCode, Message: o.Message}))
			switch {
			case transient(err):
				// The database, not the item: the course rolled back whole; check
				// and send it again.
				for _, k := range ks {
					unknown = append(unknown, sent[k])
				}
			case o.Index >= 0 && o.Index < len(sent):
				// The course rolled back at one item: that one failed, the others
				// are sent again without it.
				r.report(sent[o.Index], Failed, err)
				for _, k := range ks {
					if k != o.Index {
						rollback = append(rollback, sent[k])
					}
				}
			default:
				for _, k := range ks {
					r.report(sent[k], Failed, err)
				}
			}
		case moodle.NotSent:
			for _, k := range ks {
				notSent = append(notSent, sent[k])
			}
		default: // Unknown: the answer did not say; never assumed applied
			for _, k := range ks {
				unknown = append(unknown, sent[k])
			}
		}
	}
	return rollback, notSent, unknown
}

// callErrOr is the error to report for changes whose call did not tell.
func callErrOr(callErr error, wr moodle.WriteResult) error {
	if callErr != nil {
		return callErr
	}
	for _, o := range wr.Courses {
		if o.Err != nil {
			return o.Err
		}
	}
	return errors.New("moodle: the write's outcome is unknown")
}

// applied reports the items ks of sent applied and keeps the ids of what they created.
func (r *runner) applied(sent []int, ks []int, ids []int64) {
	for j, k := range ks {
		c := r.plan.Changes[sent[k]]
		cr := r.courses[c.Course]
		if j < len(ids) && c.Action == diff.Create {
			switch c.Kind {
			case diff.KindGroup:
				cr.groupIDs[c.Group.Name] = ids[j]
			case diff.KindMethod:
				cr.methodIDs[c.Method.Key()] = ids[j]
			}
		}
		r.report(sent[k], Applied, nil)
	}
}

// resolve re-reads the courses of changes whose outcome is unknown: those the course
// shows are applied; the others are returned to be sent again, or, on the last try,
// reported failed with err. When the course cannot be read, they are Unknown.
func (r *runner) resolve(ctx context.Context, idx []int, err error, lastTry bool) []int {
	if len(idx) == 0 {
		return nil
	}
	if why := r.stopped(); why != "" && moodle.MayStillRun(err) {
		// Given up once stopped: no re-read (the site may be what hangs); the next plan
		// shows what landed.
		for _, i := range idx {
			r.report(i, Unknown, fmt.Errorf("%v; the apply was stopped (%s) while this write was in flight: run plan to see whether it landed", err, why))
		}
		return nil
	}
	var ids []int64
	seen := map[int64]bool{}
	for _, i := range idx {
		if id := r.courses[r.plan.Changes[i].Course].course.ID; !seen[id] {
			seen[id] = true
			ids = append(ids, id)
		}
	}
	states, rerr := r.client.CourseStates(ctx, ids)
	if rerr != nil {
		for _, i := range idx {
			r.report(i, Unknown, fmt.Errorf("%v; re-reading the course to check failed too: %v", err, rerr))
		}
		return nil
	}
	fresh := map[int64]state.Course{}
	for _, cs := range states {
		fresh[cs.CourseID] = moodle.ToCourse(cs)
	}
	for _, id := range ids {
		for _, cr := range r.courses {
			if cr.course.ID == id {
				cr.set(fresh[id])
			}
		}
	}
	var again []int
	for _, i := range idx {
		c := r.plan.Changes[i]
		switch live := fresh[r.courses[c.Course].course.ID]; {
		case satisfied(c, live):
			r.report(i, Applied, nil)
		case moodle.MayStillRun(err):
			// Never sent again while the first call may still be running.
			r.report(i, Unknown, fmt.Errorf("%v; the write may still be running on the site, so it was not sent again: run plan once it has finished", err))
		case lastTry:
			r.report(i, Failed, err)
		default:
			again = append(again, i)
		}
	}
	return again
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
	var pe *preconditionError
	if errors.As(err, &pe) {
		return "precondition"
	}
	return "unknown-outcome"
}

// transientCodes are Moodle errors that say nothing about the request itself.
var transientCodes = []string{"dmlwriteexception", "dmlreadexception", "dbtransactionfailed", "sitemaintenance", "dmltransactionexception", "dbconnectionfailed"}

func transient(err error) bool {
	if moodle.MayStillRun(err) {
		return false
	}
	var te *moodle.TransportError
	return errors.As(err, &te) || slices.Contains(transientCodes, moodle.Code(err))
}
