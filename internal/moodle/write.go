package moodle

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/url"
	"strings"
	"time"
)

// Limits of one local_enrolctl_write call (Contract v2). The byte limit is counted on
// the form-encoded body, which is what PHP's post_max_size (8M by default) measures.
const (
	maxWriteItems = 5000
	maxWriteBytes = 8_000_000 - 4096
)

const writeFunction = "local_enrolctl_write"

// Outcome is what became of one course's items in a write.
type Outcome string

const (
	// Applied: the course's transaction committed every item.
	Applied Outcome = "ok"
	// Failed: the course's transaction rolled back at item Index (or, with Index -1, the
	// whole call was refused before anything was written).
	Failed Outcome = "error"
	// Unknown: the answer did not say (lost, null, missing the course, malformed). The
	// course may or may not have changed: re-read it.
	Unknown Outcome = "unknown"
	// NotSent: an earlier call of the same write failed as a whole, so this course's
	// items were never sent.
	NotSent Outcome = "notsent"
)

// CourseOutcome is the outcome of one course's items in a write.
type CourseOutcome struct {
	CourseID int64
	Outcome  Outcome
	// Index is the failing item's index in the items given to Write; -1 when none.
	Index     int
	ErrorCode string
	// Message is Moodle's message, redacted of the token.
	Message string
	// IDs are the ids of the course's items in order (add_instances, create_groups;
	// only when Applied, or for the part committed before a failure of a split course).
	IDs []int64
	// Committed counts the course's items known to be committed: all of them when
	// Applied; when a course over the call limit was split, those of its earlier calls.
	Committed int
	// Err says why the outcome is Unknown or NotSent, or the whole-call error of a Failed.
	Err error
}

// WriteResult is the outcome of Write: one entry per course, in order of first
// appearance in the items.
type WriteResult struct {
	Operation Operation
	Courses   []CourseOutcome
	// Calls counts the HTTP calls made, resends included.
	Calls int
}

// Course returns the outcome of one course.
func (r WriteResult) Course(id int64) (CourseOutcome, bool) {
	for _, o := range r.Courses {
		if o.CourseID == id {
			return o, true
		}
	}
	return CourseOutcome{}, false
}

// Write sends items, across any number of courses, as local_enrolctl_write calls: one
// call unless the items exceed the contract's 5,000 items or 8 MB, then as few calls as
// fit, courses kept whole where they fit in one call. Calls are sent in sequence, so
// that courses sharing users are never written concurrently.
//
// A transient failure (transport error, HTTP 5xx, a lost or truncated answer, a
// database deadlock for the whole call) resends the whole call with exponential
// backoff and jitter; courses that failed with a deadlock are resent together. Items
// are idempotent (contract), so a resend never applies twice. A course the answer does
// not account for is Unknown, never assumed applied.
//
// The error is non-nil when a call failed as a whole (the token refused, the payload
// refused, the retries exhausted, ctx cancelled); the result still has every course.
// Items are []WriteItem (apply's) or a slice of one item type; one operation a call.
func Write[T WriteItem](ctx context.Context, c *Client, items []T) (WriteResult, error) {
	var res WriteResult
	if len(items) == 0 {
		return res, nil
	}
	res.Operation = items[0].Operation()
	enc := make([]encodedItem, len(items))
	for i, it := range items {
		if op := it.Operation(); op != res.Operation {
			return res, fmt.Errorf("moodle: one write mixes %s and %s items", res.Operation, op)
		}
		js, err := json.Marshal(it)
		if err != nil {
			return res, fmt.Errorf("moodle: encoding %s item %d: %v", res.Operation, i, err)
		}
		enc[i] = encodedItem{index: i, course: it.Course(), json: js, size: len(url.QueryEscape(string(js))) + len("%2C")}
	}
	w := &writer{c: c, op: res.Operation, maxItems: c.maxWriteItems, maxBytes: c.maxWriteBytes}
	byCourse := w.group(enc)
	outcomes := make(map[int64]*CourseOutcome, len(byCourse))
	for _, cg := range byCourse {
		res.Courses = append(res.Courses, CourseOutcome{CourseID: cg.course, Outcome: Applied, Index: -1})
	}
	for i := range res.Courses {
		outcomes[res.Courses[i].CourseID] = &res.Courses[i]
	}
	var failure error
	for _, ch := range w.chunks(byCourse) {
		if failure != nil {
			for _, part := range ch {
				o := outcomes[part.course]
				if o.Outcome == Applied {
					o.Outcome, o.Err = NotSent, failure
				}
			}
			continue
		}
		// A course split over calls stops at its first failure, so that nothing after
		// a rolled-back item commits.
		live := ch[:0:0]
		for _, part := range ch {
			if outcomes[part.course].Outcome == Applied {
				live = append(live, part)
			}
		}
		if len(live) > 0 {
			failure = w.send(ctx, live, outcomes, &res.Calls)
		}
	}
	return res, failure
}

type encodedItem struct {
	index  int
	course int64
	json   []byte
	size   int
}

// coursePart is a course's items in one call: all of them unless the course is split.
type coursePart struct {
	course int64
	items  []encodedItem
}

type writer struct {
	c                  *Client
	op                 Operation
	maxItems, maxBytes int
}

// group gathers items by course, in order of first appearance.
func (w *writer) group(enc []encodedItem) []coursePart {
	at := map[int64]int{}
	var out []coursePart
	for _, e := range enc {
		i, ok := at[e.course]
		if !ok {
			i = len(out)
			at[e.course] = i
			out = append(out, coursePart{course: e.course})
		}
		out[i].items = append(out[i].items, e)
	}
	return out
}

// chunks packs courses into calls under the limits, splitting only a course that does
// not fit in a call of its own.
func (w *writer) chunks(courses []coursePart) [][]coursePart {
	var out [][]coursePart
	var cur []coursePart
	n, size := 0, 0
	flush := func() {
		if len(cur) > 0 {
			out = append(out, cur)
		}
		cur, n, size = nil, 0, 0
	}
	for _, cg := range courses {
		cs := 0
		for _, e := range cg.items {
			cs += e.size
		}
		fitsAlone := len(cg.items) <= w.maxItems && cs <= w.maxBytes
		if fitsAlone {
			if n+len(cg.items) > w.maxItems || size+cs > w.maxBytes {
				flush()
			}
			cur = append(cur, cg)
			n, size = n+len(cg.items), size+cs
			continue
		}
		part := coursePart{course: cg.course}
		for _, e := range cg.items {
			if n+1 > w.maxItems || size+e.size > w.maxBytes {
				if len(part.items) > 0 {
					cur = append(cur, part)
					part = coursePart{course: cg.course}
				}
				flush()
			}
			part.items = append(part.items, e)
			n, size = n+1, size+e.size
		}
		cur = append(cur, part)
	}
	flush()
	return out
}

// send writes one call's courses, resending on transient failures, and records each
// course's outcome. It returns the error of a call that failed as a whole.
func (w *writer) send(ctx context.Context, parts []coursePart, outcomes map[int64]*CourseOutcome, calls *int) error {
	pending := parts
	retries := w.c.cfg.WriteRetries
	for attempt := 0; ; attempt++ {
		*calls++
		var raw rawJSON
		err := w.c.writeItems(withAttempt(ctx, attempt), writeFunction, countItems(pending), w.form(pending), &raw)
		if err != nil {
			if transient(err) && attempt < retries && w.resend(ctx, attempt, pending, err) {
				continue
			}
			for _, p := range pending {
				o := outcomes[p.course]
				if o.Outcome != Applied {
					continue // already failed in an earlier call of a split course
				}
				if transient(err) || Code(err) == "" {
					o.Outcome, o.Err = Unknown, err
				} else {
					o.Outcome, o.ErrorCode, o.Message, o.Err = Failed, Code(err), w.c.redact(messageOf(err)), err
				}
			}
			return err
		}
		pending = w.record(pending, raw, outcomes)
		if len(pending) == 0 {
			return nil
		}
		if attempt >= retries || !w.resend(ctx, attempt, pending, outcomes[pending[0].course].Err) {
			return nil // the courses not sent again keep their failure
		}
		// A resent course starts over: its earlier failure is not its outcome any more.
		for _, p := range pending {
			o := outcomes[p.course]
			o.Outcome, o.ErrorCode, o.Message, o.Index, o.Err = Applied, "", "", -1, nil
		}
	}
}

func countItems(parts []coursePart) int {
	n := 0
	for _, p := range parts {
		n += len(p.items)
	}
	return n
}

// Resend is a write call about to be sent again after a transient failure.
type Resend struct {
	Function string
	// Courses and Items say what the call carries.
	Courses, Items int
	// Attempt is the number of the send about to be made (2 for the first resend), of
	// at most Attempts.
	Attempt, Attempts int
	// Reason is the failure that makes it resend.
	Reason error
	// Delay is the wait before it is sent.
	Delay time.Duration
}

// WriteHooks let the caller of a write see and stop its resends.
type WriteHooks struct {
	// BeforeResend is called before each resend (to say it, and record it); an error
	// stops the resend: the call's outcome stays unknown.
	BeforeResend func(Resend) error
	// Stop, once closed, stops resends and ends the wait before one.
	Stop <-chan struct{}
}

type hooksKey struct{}

// WithWriteHooks returns ctx carrying h for the writes made with it.
func WithWriteHooks(ctx context.Context, h WriteHooks) context.Context {
	return context.WithValue(ctx, hooksKey{}, h)
}

// resend says whether to send pending again after failure err, once the attempt's
// backoff has passed: not when the hooks refuse or stop it, or ctx ends.
func (w *writer) resend(ctx context.Context, attempt int, pending []coursePart, err error) bool {
	h, _ := ctx.Value(hooksKey{}).(WriteHooks)
	if h.Stop != nil {
		select {
		case <-h.Stop:
			return false
		default:
		}
	}
	d := w.c.backoff(attempt)
	if h.BeforeResend != nil {
		if h.BeforeResend(Resend{Function: writeFunction, Courses: len(pending), Items: countItems(pending),
			Attempt: attempt + 2, Attempts: w.c.cfg.WriteRetries + 1, Reason: err, Delay: d}) != nil {
			return false
		}
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-h.Stop:
		return false
	case <-t.C:
		return true
	}
}

// record reads one answer into the outcomes and returns the parts to resend: those
// whose course failed with a deadlock.
func (w *writer) record(parts []coursePart, raw rawJSON, outcomes map[int64]*CourseOutcome) (resend []coursePart) {
	var results []struct {
		CourseID  *int64  `json:"courseid"`
		Status    string  `json:"status"`
		Index     *int    `json:"index"`
		ErrorCode string  `json:"errorcode"`
		Message   string  `json:"message"`
		IDs       []int64 `json:"ids"`
	}
	malformed := json.Unmarshal(raw, &results) != nil || string(raw) == "null"
	byCourse := make(map[int64]int, len(results))
	for i, r := range results {
		if r.CourseID != nil {
			if _, dup := byCourse[*r.CourseID]; dup {
				byCourse[*r.CourseID] = -1 // two answers for one course: trust neither
			} else {
				byCourse[*r.CourseID] = i
			}
		}
	}
	// The plugin's index is the item's position in the call's items.
	var sent []encodedItem
	for _, p := range parts {
		sent = append(sent, p.items...)
	}
	for _, p := range parts {
		o := outcomes[p.course]
		i, ok := byCourse[p.course]
		switch {
		case malformed:
			o.Outcome, o.Err = Unknown, fmt.Errorf("moodle: %s: the answer is not a list of course results: %q", writeFunction, snippet(w.c.redact(string(raw))))
			continue
		case !ok:
			o.Outcome, o.Err = Unknown, fmt.Errorf("moodle: %s: the answer has no result for course %d", writeFunction, p.course)
			continue
		case i < 0:
			o.Outcome, o.Err = Unknown, fmt.Errorf("moodle: %s: the answer has two results for course %d", writeFunction, p.course)
			continue
		}
		r := results[i]
		switch r.Status {
		case "ok":
			if w.op.returnsIDs() && len(r.IDs) != len(p.items) {
				o.Outcome, o.Err = Unknown, fmt.Errorf("moodle: %s: course %d: %d ids for %d items", writeFunction, p.course, len(r.IDs), len(p.items))
				continue
			}
			o.Committed += len(p.items)
			if w.op.returnsIDs() {
				o.IDs = append(o.IDs, r.IDs...)
			}
		case "error":
			if deadlock(r.ErrorCode, r.Message) {
				resend = append(resend, p)
			}
			o.Outcome, o.ErrorCode, o.Message, o.Index = Failed, r.ErrorCode, w.c.redact(PlainText(r.Message)), -1
			if r.Index != nil && *r.Index >= 0 && *r.Index < len(sent) && sent[*r.Index].course == p.course {
				o.Index = sent[*r.Index].index
			}
			o.Err = &Error{Function: writeFunction, ErrorCode: r.ErrorCode, Message: o.Message}
		default:
			o.Outcome, o.Err = Unknown, fmt.Errorf("moodle: %s: course %d: unknown status %q", writeFunction, p.course, w.c.redact(r.Status))
		}
	}
	return resend
}

// form encodes the items of parts, in order, as one call's parameters; the item
// indices the plugin reports are positions in this list.
func (w *writer) form(parts []coursePart) *Form {
	var b strings.Builder
	b.WriteByte('[')
	first := true
	for pi := range parts {
		for _, e := range parts[pi].items {
			if !first {
				b.WriteByte(',')
			}
			first = false
			b.Write(e.json)
		}
	}
	b.WriteByte(']')
	f := &Form{}
	f.Set("operation", string(w.op))
	f.Set("items", b.String())
	return f
}

// transient says whether a whole-call failure may be resent: no answer (a dropped
// connection), HTTP 5xx, an answer that is not JSON (cut short), a database deadlock or
// a database that could not be reached. Never a call that may still be running (it
// timed out, was given up, or a gateway timed out waiting for it): resending it would
// run it twice at once.
func transient(err error) bool {
	if MayStillRun(err) {
		return false
	}
	var te *TransportError
	if errors.As(err, &te) {
		if errors.Is(te.Err, ErrRedirect) {
			return false
		}
		return te.Status == 0 || te.Status >= 500 || te.Status == 200 || te.Status == 429
	}
	var me *Error
	return errors.As(err, &me) && deadlock(me.ErrorCode, me.Message)
}

// deadlock says whether a failure rolled everything back for a reason that resending
// may cure: a deadlock, a serialization failure, a database that could not be reached.
func deadlock(code, message string) bool {
	if databaseUnavailable(code) || code == "dmlwriteexception" || code == "dmltransactionexception" {
		return true
	}
	m := strings.ToLower(message)
	return strings.Contains(m, "deadlock") || strings.Contains(m, "serialization failure")
}

// databaseUnavailable says whether a Moodle error code says the database could not be
// reached or failed mid-query, nothing about the request: dbconnectionfailed, and
// dmlreadexception, which PostgreSQL restarting mid-call gives each course's
// transaction (measured on Moodle 5.1). Reads and writes alike are sent again.
func databaseUnavailable(code string) bool {
	return code == "dbconnectionfailed" || code == "dmlreadexception"
}

func messageOf(err error) string {
	var me *Error
	if errors.As(err, &me) {
		return me.Message
	}
	return err.Error()
}

// backoff is the attempt's wait: Backoff doubled per attempt, with ±50% jitter so
// that runners that failed together do not resend together.
func (c *Client) backoff(attempt int) time.Duration {
	d := c.cfg.Backoff << min(attempt, 10)
	return d/2 + time.Duration(rand.Int64N(int64(d)+1))
}
