package moodle

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/http"
	"sync"
	"time"

	"github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"
	"golang.org/x/sync/errgroup"

	"github.com/enrolctl/enrolctl/internal/contract"
)

// The plugin versions (internal/contract) from which the client reads through
// Contract v2 (500 courses per get_course_state, 5,000 catalogue entries per page,
// users in course state), local_enrolctl_get_course_state_json (the same course states
// as one JSON-encoded string, which spares Moodle checking every returned value, most
// of a real site's read time) and local_enrolctl_get_user_ids (usernames to ids in one
// query, where core_user_get_users_by_field builds every user's full profile: 1.7 s
// per 500 usernames on a real site).
const (
	contractV2        = contract.PluginV2
	contractV2JSON    = contract.PluginCourseStateJSON
	contractV2UserIDs = contract.PluginUserIDs
	// contractRows has local_enrolctl_get_course_rows: 5,000 courses a call as
	// positional rows, each user and role named once per answer.
	contractRows = contract.PluginCourseRows
)

// Read limits per call, v1 and v2 of the contract.
const (
	statesPerCallV1, statesPerCallV2 = 200, 500
	statesPerCallRows                = 5000
	// readRounds and minStatesPerCall shape a large read (eachCourseState).
	readRounds, minStatesPerCall     = 4, 500
	catalogueV1, catalogueV2         = 1000, 5000
	usersPerLookup, usersPerLookupV2 = 500, 5000
	// splitRows: a read by name of this many rows or more is sent in two parts
	// (eachCourseByName). Moodle's bootstrap of the second call (about 150 ms) and
	// its wait for the site's status then cost less than the rows take to read.
	splitRows = 20000
)

// Catalogue lists every course of the site with its category path: the first page,
// then the others in parallel.
func (c *Client) Catalogue(ctx context.Context) ([]CourseRef, error) {
	first, total, perPage, err := c.cataloguePage(ctx, 0, catalogueV2)
	if err != nil && Code(err) == "invalidparameter" {
		// A v1 plugin caps perpage at 1,000.
		first, total, perPage, err = c.cataloguePage(ctx, 0, catalogueV1)
	}
	if err != nil {
		return nil, err
	}
	return c.catalogueRest(ctx, first, total, perPage)
}

// catalogueRest is the whole catalogue once its first page is read: the other pages
// are read in parallel.
func (c *Client) catalogueRest(ctx context.Context, first []CourseRef, total, perPage int) ([]CourseRef, error) {
	if len(first) < perPage || len(first) >= total {
		return first, nil
	}
	pages := (total + perPage - 1) / perPage
	rest := make([][]CourseRef, pages)
	rest[0] = first
	g, gctx := errgroup.WithContext(ctx)
	for p := 1; p < pages; p++ {
		g.Go(func() error {
			refs, _, _, err := c.cataloguePage(gctx, p, perPage)
			rest[p] = refs
			return err
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	all := make([]CourseRef, 0, total)
	seen := make(map[int64]bool, total)
	for _, refs := range rest {
		for _, r := range refs {
			// A course created between two pages can shift another onto the next page.
			if !seen[r.ID] {
				seen[r.ID] = true
				all = append(all, r)
			}
		}
	}
	return all, nil
}

func (c *Client) cataloguePage(ctx context.Context, page, perPage int) ([]CourseRef, int, int, error) {
	var resp struct {
		Total   int         `json:"total"`
		Courses []CourseRef `json:"courses"`
	}
	f := &Form{}
	f.Int("page", int64(page))
	f.Int("perpage", int64(perPage))
	err := c.read(ctx, "local_enrolctl_get_courses", f, &resp)
	return resp.Courses, resp.Total, perPage, err
}

// statusAndCatalogue reads the status and the first page of the catalogue in one call
// (plugin contract.PluginCoursesWithStatus): Moodle's bootstrap of a request, most of
// what a small read costs, is paid once. With names, the same call asks for those
// courses' rows too (plugin contract.PluginSiteWithRows), which come back as the raw
// JSON string get_course_rows answers (nil when the answer lacks them). An older plugin
// refuses the parameters (invalidparameter); status is nil when the answer lacks it.
func (c *Client) statusAndCatalogue(ctx context.Context, names []string) (status *SiteStatus, first []CourseRef, total int, rows jsontext.Value, err error) {
	var resp struct {
		Total   int            `json:"total"`
		Courses []CourseRef    `json:"courses"`
		Status  *SiteStatus    `json:"status"`
		Rows    jsontext.Value `json:"rows"`
	}
	f := &Form{}
	f.Int("page", 0)
	f.Int("perpage", catalogueV2)
	f.Int("withstatus", 1)
	if names != nil {
		list, err := json.Marshal(names, jsontext.AllowInvalidUTF8(true))
		if err != nil {
			return nil, nil, 0, nil, err
		}
		f.Set("shortnames", string(list))
	}
	err = c.read(ctx, "local_enrolctl_get_courses", f, &resp)
	if err == nil && resp.Status != nil {
		c.pluginVersion.Store(resp.Status.PluginVersion)
	}
	return resp.Status, resp.Courses, resp.Total, resp.Rows, err
}

// AheadRows lets a read of courses by name (ObserveNamed, RowsAhead) send its first
// part with the site's read (ReadSiteAhead): get_courses then answers the status, the
// catalogue's first page and get_course_rows of those courses in one request (plugin
// contract.PluginSiteWithRows), and Moodle's bootstrap of a request, about 170 ms of
// the site's CPU, is paid once less. The site's read waits until the read by name says
// which courses it wants (or None), aheadWait at most: a plan's specs are read in tens
// of milliseconds on most sites, and a folder of tens of thousands would hold the
// site's read back for seconds, which then goes alone (the read by name asks for every
// part itself). The read by name waits for the rows asked ahead, or for word that the
// plugin refused them, and then asks for them itself.
type AheadRows struct {
	once   sync.Once
	names  []string
	asked  chan struct{}    // closed once names is set (nil: none wanted)
	answer chan aheadAnswer // the site's read's answer, once names are wanted
}

// aheadAnswer is what the site's read got of the rows asked ahead: rows, the raw JSON
// string; err, the read's failure; neither, a plugin that refused them.
type aheadAnswer struct {
	rows jsontext.Value
	err  error
}

// NewAheadRows is an AheadRows for one site read and one read by name.
func NewAheadRows() *AheadRows {
	return &AheadRows{asked: make(chan struct{}), answer: make(chan aheadAnswer, 1)}
}

// ask says which courses the read by name wants with the site's read: false when it
// was already said (None came first), and the read must ask for them itself.
func (a *AheadRows) ask(names []string) bool {
	ok := false
	a.once.Do(func() { a.names, ok = names, true; close(a.asked) })
	return ok
}

// None says that no course is wanted with the site's read (unless it was said
// already): the site's read goes on alone. a may be nil.
func (a *AheadRows) None() {
	if a != nil {
		a.ask(nil)
	}
}

// aheadWait is how long the site's read waits for the courses wanted with it.
const aheadWait = 250 * time.Millisecond

// wanted waits until the courses wanted are known, aheadWait at most: nil for none.
func (a *AheadRows) wanted(ctx context.Context) ([]string, error) {
	if a == nil {
		return nil, nil
	}
	wait := time.NewTimer(aheadWait)
	defer wait.Stop()
	select {
	case <-a.asked:
	case <-wait.C:
		a.None() // unless they were said meanwhile
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	return a.names, nil
}

// rowsAhead decodes the rows the site's read brought for the first part of a read by
// name, handing each course to fn: false when the plugin refused them (the read then
// asks for them itself).
func (c *Client) rowsAhead(ctx context.Context, a *AheadRows, asked int, fn func(n int, cs *CourseState, answer *rowUsers) error) (bool, error) {
	var ans aheadAnswer
	select {
	case ans = <-a.answer:
	case <-ctx.Done():
		return true, ctx.Err()
	}
	if ans.err != nil || ans.rows == nil {
		return ans.err != nil, ans.err
	}
	const fnName = "local_enrolctl_get_courses"
	return true, c.courseRowsOf(ctx, fnName, func(out streamDecoder) error {
		if err := out.decodeStream(bufio.NewReader(bytes.NewReader(ans.rows))); err != nil {
			return &TransportError{Function: fnName, Status: http.StatusOK, Err: fmt.Errorf("decoding response: %s", c.redact(err.Error()))}
		}
		return nil
	}, asked, false, true, fn)
}

// CourseStates reads the full enrolment state of the given courses. The result is in
// the order of ids. Large reads should use EachCourseState, which holds less.
func (c *Client) CourseStates(ctx context.Context, ids []int64) ([]CourseState, error) {
	out := make([]CourseState, len(ids))
	err := c.EachCourseState(ctx, ids, 0, func(i int, cs *CourseState) error {
		out[i] = *cs
		return nil
	})
	return out, err
}

// EachCourseState reads the given courses, as many per call as perCall (0: as many as
// the contract allows, spread over the client's concurrency), calls in parallel, and
// hands each course to fn as soon as it is decoded, with its index in ids; fn is called
// from several goroutines at once. Decoding one course at a time keeps a large site's
// read from holding every course decoded.
func (c *Client) EachCourseState(ctx context.Context, ids []int64, perCall int, fn func(i int, cs *CourseState) error) error {
	return c.eachCourseState(ctx, ids, perCall, false, func(i int, cs *CourseState, _ courseUsers) error { return fn(i, cs) })
}

// userRef is a user of a course state as Observe needs it: decoding only these two
// fields saves four strings per user and course.
type userRef struct {
	ID       int64  `json:"id"`
	Username string `json:"username"`
}

// observedCourse is a course state whose users are userRefs: the outer Users shadows
// CourseState's.
type observedCourse struct {
	CourseState
	Users []userRef `json:"users"`
}

// eachCourseState is EachCourseState. With lite, each call decodes every course into
// the same observedCourse, whose slices keep their capacity (most of a large read's
// garbage otherwise), so fn must not keep cs, users or their slices; users are then
// the course's users (get_course_state: cs.Users is empty) or its answer's
// (get_course_rows). Without, users is empty.
func (c *Client) eachCourseState(ctx context.Context, ids []int64, perCall int, lite bool, fn func(i int, cs *CourseState, users courseUsers) error) error {
	version := c.pluginVersion.Load()
	if perCall <= 0 {
		perCall = statesPerCallV1
		switch {
		case version >= contractRows:
			perCall = statesPerCallRows
		case version >= contractV2:
			perCall = statesPerCallV2
		}
		perCall = c.perCall(len(ids), perCall)
	}
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(c.cfg.Concurrency)
	for start := 0; start < len(ids); start += perCall {
		end := min(start+perCall, len(ids))
		g.Go(func() error {
			batch := ids[start:end]
			if version >= contractRows {
				return c.courseRows(gctx, batch, lite, func(n int, cs *CourseState, answer *rowUsers) error {
					return fn(start+n, cs, courseUsers{answer: answer})
				})
			}
			return c.courseStates(gctx, batch, version >= contractV2JSON, lite, func(n int, cs *CourseState, users []userRef) error {
				return fn(start+n, cs, courseUsers{refs: users})
			})
		})
	}
	return g.Wait()
}

// perCall is how many of n courses a read asks for per call, at most limit: enough
// calls to keep every connection busy for a few rounds. A server builds its whole
// answer before sending it, so with one round the client decodes nothing until the
// server has built every course, and then the server idles; with four, the first
// answers are decoded (and planned) while the server builds the next ones. Small
// reads stay one round: a round costs a call's latency.
func (c *Client) perCall(n, limit int) int {
	return min(limit, max(minStatesPerCall, (n+readRounds*c.cfg.Concurrency-1)/(readRounds*c.cfg.Concurrency)))
}

// eachCourseByName reads the courses named (plugin contract.PluginRowsByName) as
// eachCourseState reads courses by id, without the site's catalogue: those the site
// lacks are left out. The first batch goes at once; the others wait until later says
// whether the plugin takes names (false: they are left to the caller's fallback, which
// the first one's refusal starts), so that an older plugin refuses one call, not one
// a batch.
//
// Courses of rows or more rows (the caller's guess) that one call would hold go in
// two: Moodle builds an answer whole before sending it, so with one call the client
// decodes nothing until the server has read every row, and the server reads them on
// one core. The first part goes at once and is the larger, the second waits for later.
//
// With ahead (AheadRows), the first part goes with the site's read, and the others at
// once: the site's read answers only once it has read that part too, and a plugin that
// refuses names then refuses the first part as well, which no course has been handed
// before. The two parts are then halves: both leave at once. A first part the site's
// read did not bring (a plugin before 2.4.0) is asked for once the site is read.
func (c *Client) eachCourseByName(ctx context.Context, names []string, rows int, ahead *AheadRows, later func() (bool, error), fn func(cs *CourseState, answer *rowUsers) error) error {
	perCall := c.perCall(len(names), statesPerCallRows)
	first := perCall
	if len(names) > 1 && len(names) <= perCall && rows >= splitRows {
		first = min(len(names)-1, (2*len(names)+2)/3) // two parts, even of two courses
		if ahead != nil {
			first = (len(names) + 1) / 2
		}
	}
	withSite := ahead != nil && ahead.ask(names[:min(first, len(names))])
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(c.cfg.Concurrency)
	for start, end := 0, min(first, len(names)); start < len(names); start, end = end, min(end+perCall, len(names)) {
		batch := names[start:end]
		g.Go(func() error {
			handle := func(_ int, cs *CourseState, answer *rowUsers) error { return fn(cs, answer) }
			if start == 0 && withSite {
				if done, err := c.rowsAhead(gctx, ahead, len(batch), handle); done || err != nil {
					return err
				}
				// Refused (a plugin before 2.4.0): asked once the site is read, which is
				// asking again meanwhile. The other parts hold every other connection while
				// their first course waits for the site: this part would hold the last one.
				if _, err := later(); err != nil {
					return err
				}
			}
			if start > 0 && !withSite {
				if ok, err := later(); !ok || err != nil {
					return err
				}
			}
			return c.courseRowsByName(gctx, batch, true, handle)
		})
	}
	return g.Wait()
}

// courseRows reads one batch through local_enrolctl_get_course_rows: the ids go as one
// JSON array (no max_input_vars limit), the answer is one string.
func (c *Client) courseRows(ctx context.Context, ids []int64, lite bool, fn func(n int, cs *CourseState, answer *rowUsers) error) error {
	list, err := json.Marshal(ids)
	if err != nil {
		return err
	}
	f := &Form{}
	f.Set("courseids", string(list))
	return c.courseRowsOf(ctx, courseRowsFn, c.reader(ctx, courseRowsFn, f), len(ids), true, lite, fn)
}

// courseRowsByName reads one batch of courses named by shortname (plugin
// contract.PluginRowsByName): those the site lacks are left out of the answer.
func (c *Client) courseRowsByName(ctx context.Context, names []string, lite bool, fn func(n int, cs *CourseState, answer *rowUsers) error) error {
	list, err := json.Marshal(names, jsontext.AllowInvalidUTF8(true))
	if err != nil {
		return err
	}
	f := &Form{}
	f.Set("shortnames", string(list))
	return c.courseRowsOf(ctx, courseRowsFn, c.reader(ctx, courseRowsFn, f), len(names), false, lite, fn)
}

const courseRowsFn = "local_enrolctl_get_course_rows"

// reader is a read of fnName with f, decoded by the decoder it is given.
func (c *Client) reader(ctx context.Context, fnName string, f *Form) func(streamDecoder) error {
	return func(out streamDecoder) error { return c.read(ctx, fnName, f, out) }
}

// courseRowsOf decodes get_course_rows' answer, which read brings (a call of fnName),
// for asked courses: the answer holds exactly that many (exact) or at most.
func (c *Client) courseRowsOf(ctx context.Context, fnName string, read func(streamDecoder) error, asked int, exact, lite bool, fn func(n int, cs *CourseState, answer *rowUsers) error) error {
	n := 0
	var cs CourseState
	rows := courseRows{
		next: func() *CourseState {
			if lite {
				cs.reset()
			} else {
				cs = CourseState{}
			}
			return &cs
		},
		fn: func(cs *CourseState, answer *rowUsers) error {
			if n >= asked {
				return fmt.Errorf("asked for %d courses, got more", asked)
			}
			n++
			return fn(n-1, cs, answer)
		},
		lite: lite,
	}
	if err := read(jsonInString{rows}); err != nil {
		return err
	}
	if exact && n != asked {
		return &TransportError{Function: fnName, Err: fmt.Errorf("asked for %d courses, got %d", asked, n)}
	}
	return nil
}

// courseStates reads one batch through get_course_state (asString: its _json twin).
func (c *Client) courseStates(ctx context.Context, ids []int64, asString, lite bool, fn func(n int, cs *CourseState, users []userRef) error) error {
	fnName := "local_enrolctl_get_course_state"
	if asString {
		fnName = "local_enrolctl_get_course_state_json"
	}
	f := &Form{}
	for i, id := range ids {
		f.Int(item("courseids", i), id)
	}
	n := 0
	var oc observedCourse
	stream := streamArray(func(dec *jsontext.Decoder) error {
		// json/v2: twice as fast as encoding/json on these answers, which
		// are most of a plan's time on a large site.
		var err error
		if lite {
			oc.CourseState.reset()
			oc.Users = clearAll(oc.Users)
			err = json.UnmarshalDecode(dec, &oc)
		} else {
			oc = observedCourse{}
			err = json.UnmarshalDecode(dec, &oc.CourseState)
		}
		if err != nil {
			return err
		}
		if n >= len(ids) {
			return fmt.Errorf("asked for %d courses, got more", len(ids))
		}
		n++
		return fn(n-1, &oc.CourseState, oc.Users)
	})
	var out streamDecoder = stream
	if asString {
		out = jsonInString{stream}
	}
	if err := c.read(ctx, fnName, f, out); err != nil {
		return err
	}
	if n != len(ids) {
		return &TransportError{Function: fnName, Err: fmt.Errorf("asked for %d courses, got %d", len(ids), n)}
	}
	return nil
}

// streamArray decodes a JSON array one element at a time.
type streamArray func(dec *jsontext.Decoder) error

func (streamArray) opens() byte { return '[' }

func (s streamArray) decodeStream(r io.Reader) error {
	dec := jsontext.NewDecoder(r)
	if t, err := dec.ReadToken(); err != nil || t.Kind() != '[' {
		return fmt.Errorf("want a JSON array: %v", err)
	}
	for dec.PeekKind() != ']' {
		if err := s(dec); err != nil {
			return err
		}
	}
	_, err := dec.ReadToken()
	return err
}

// streamDecoder is an answer decoded piece by piece rather than all at once.
// opens is the first byte of such an answer ('[' an array, '"' a string): any other
// answer (an exception object) is read whole and decoded as usual.
type streamDecoder interface {
	decodeStream(r io.Reader) error
	opens() byte
}

// UserIDs maps usernames to user ids, in parallel batches: through
// local_enrolctl_get_user_ids when the plugin has it, core_user_get_users_by_field
// otherwise. Unknown usernames are absent from the result.
func (c *Client) UserIDs(ctx context.Context, usernames []string) (map[string]int64, error) {
	names := uniqueSorted(usernames)
	out := make(map[string]int64, len(names))
	perCall, lookup := usersPerLookup, c.usersByField
	if c.pluginVersion.Load() >= contractV2UserIDs {
		perCall, lookup = usersPerLookupV2, c.pluginUserIDs
	}
	var mu sync.Mutex
	g, gctx := errgroup.WithContext(ctx)
	for start := 0; start < len(names); start += perCall {
		batch := names[start:min(start+perCall, len(names))]
		g.Go(func() error {
			ids, err := lookup(gctx, batch)
			if err != nil {
				return err
			}
			mu.Lock()
			defer mu.Unlock()
			maps.Copy(out, ids)
			return nil
		})
	}
	return out, g.Wait()
}

// usersByField looks usernames up through core_user_get_users_by_field.
func (c *Client) usersByField(ctx context.Context, batch []string) (map[string]int64, error) {
	f := &Form{}
	f.Set("field", "username")
	for i, u := range batch {
		f.Set(item("values", i), u)
	}
	var users []struct {
		ID       int64  `json:"id"`
		Username string `json:"username"`
	}
	if err := c.read(ctx, "core_user_get_users_by_field", f, &users); err != nil {
		return nil, err
	}
	ids := make(map[string]int64, len(users))
	for _, u := range users {
		ids[u.Username] = u.ID
	}
	return ids, nil
}

// pluginUserIDs looks usernames up through local_enrolctl_get_user_ids: the
// usernames go as one JSON array, the answer is one string holding a JSON object
// {username: id}.
func (c *Client) pluginUserIDs(ctx context.Context, batch []string) (map[string]int64, error) {
	const fn = "local_enrolctl_get_user_ids"
	// A name that is not UTF-8 goes with U+FFFD in its place: it names no Moodle
	// user either way, and is then absent like any unknown name.
	list, err := json.Marshal(batch, jsontext.AllowInvalidUTF8(true))
	if err != nil {
		return nil, fmt.Errorf("%s: encoding usernames: %w", fn, err)
	}
	f := &Form{}
	f.Set("usernames", string(list))
	var text string
	if err := c.read(ctx, fn, f, &text); err != nil {
		return nil, err
	}
	var ids map[string]int64
	if err := json.Unmarshal([]byte(text), &ids); err != nil {
		return nil, &TransportError{Function: fn, Status: http.StatusOK, Err: fmt.Errorf("the answer is not a JSON object of user ids: %v", err)}
	}
	if ids == nil { // "null"
		return nil, &TransportError{Function: fn, Status: http.StatusOK, Err: errors.New("the answer is not a JSON object of user ids: null")}
	}
	return ids, nil
}

// reset empties cs for the next course, keeping its slices' capacity. Elements are
// cleared too: a decoder fills only the fields an answer carries.
func (cs *CourseState) reset() {
	*cs = CourseState{
		Instances:  clearAll(cs.Instances),
		Enrolments: clearAll(cs.Enrolments),
		Roles:      clearAll(cs.Roles),
		Groups:     clearAll(cs.Groups),
		Members:    clearAll(cs.Members),
		Users:      clearAll(cs.Users),
	}
}

func clearAll[T any](s []T) []T {
	s = s[:cap(s)]
	clear(s)
	return s[:0]
}
