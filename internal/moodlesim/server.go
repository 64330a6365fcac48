package moodlesim

import (
	"bytes"
	"cmp"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/enrolctl/enrolctl/internal/contract"
	"unicode/utf8"
)

// Options configure a new simulator.
type Options struct {
	// Now is the clock (default time.Now). Timestamps written by the simulator and the
	// "active" computations use it.
	Now func() time.Time
	// Debug makes errors carry debuginfo and missing records name their table, as with
	// $CFG->debug >= DEBUG_NORMAL.
	Debug bool
	// TimeZone is the site's default time zone (default Europe/Paris).
	TimeZone string
	// Latency is added to every call, as a real site's PHP bootstrap, authentication
	// and network round trip cost (about 20 ms on a good day); see SetLatency.
	Latency time.Duration
}

// Sim is an in-memory Moodle 5.1 with the local_enrolctl plugin, served over Moodle's
// REST protocol by Handler. All methods are safe for concurrent use.
type Sim struct {
	// mu guards the site: read functions share it, writes and the admin API hold it
	// alone.
	mu sync.RWMutex
	// logMu guards log and writes, which reads update too.
	logMu sync.Mutex
	// external is enrol_database's external enrolment table (SetExternalEnrolments).
	external []ExternalEnrolment
	// latency is added to every call (SetLatency).
	latency time.Duration
	now     func() time.Time
	d       *db
	tokens  map[string]token
	writes  map[string]int
	log     []Request
	faults  *faultState
	// courseFaults fail one course's writes (FailCourse).
	courseFaults map[int64]*courseFault
	// maxInputVars is PHP's max_input_vars (0: no limit).
	maxInputVars int
	// plugin is the local_enrolctl the site runs (SetPlugin; zero: the newest).
	plugin contract.Plugin
	// The deadlock fault (deadlock.go): how long a write holds its transaction open,
	// which call holds each user, how many victims so far.
	deadlockWindow time.Duration
	userLocks      map[int64]uint64
	callSeq        uint64
	deadlocks      int
}

type token struct {
	service  string
	username string
}

// Request is one entry of the request log. Tokens are never recorded.
type Request struct {
	Function string    `json:"function"`
	Time     time.Time `json:"time"`
	Write    bool      `json:"write"`
	// Outcome is "ok", the errorcode returned, or the fault injected
	// ("http500", "timeout", "afterwrite").
	Outcome string `json:"outcome"`
}

// Service names: the three of the plugin's db/services.php, and one that exists only in
// the simulator and holds every function it implements.
const (
	ServiceEnrolctl = "enrolctl"
	ServiceRead     = "enrolctl_read"
	ServiceTesting  = "enrolctl_testing"
	ServiceAll      = "moodlesim_all"
)

// New returns an empty site: the site course (id 1), the guest (id 1) and admin
// (id 2, site admin) users, the standard roles, the plugins manual, guest, self,
// cohort, meta and database enabled, web services on.
// guestUserInfo is get_string('guestuserinfo'), the guest's description at install.
var guestUserInfo = "This user is a special user that allows read-only access to some courses."

func New(opts Options) *Sim {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	opts.TimeZone = cmp.Or(opts.TimeZone, "Europe/Paris")
	d := newDB()
	d.Config = config{
		SiteName:            "Moodle",
		EnabledPlugins:      []string{"manual", "guest", "self", "cohort", "meta", "database"},
		CohortUnenrolAction: ExtRemovedUnenrol,
		MetaUnenrolAction:   ExtRemovedSuspendNoRoles,
		TimeZone:            opts.TimeZone,
		Debug:               opts.Debug,
		WebServicesEnabled:  true,
	}
	d.putCourse(Course{ID: SiteCourseID, Shortname: "moodle", Fullname: "Moodle", Visible: true})
	d.reserve("course", SiteCourseID)
	d.putUser(User{ID: 1, Username: "guest", Firstname: "Guest user", Lastname: " ", Email: "root@localhost", Auth: "manual",
		Description: &guestUserInfo})
	d.putUser(User{ID: 2, Username: "admin", Firstname: "Admin", Lastname: "User", Email: "admin@example.invalid", Auth: "manual", SiteAdmin: true})
	d.reserve("user", 2)
	s := newSim(d, opts.Now)
	s.latency = opts.Latency
	return s
}

// SetLatency adds d to every call (0: none), outside the site's lock, so concurrent
// clients overlap as they would on a real server.
func (s *Sim) SetLatency(d time.Duration) { s.locked(func() { s.latency = d }) }

func newSim(d *db, now func() time.Time) *Sim {
	return &Sim{now: now, d: d, tokens: map[string]token{}, writes: map[string]int{}}
}

// locked runs f under the site's lock: the settings of tests and fixtures.
func (s *Sim) locked(f func()) {
	s.mu.Lock()
	defer s.mu.Unlock()
	f()
}

// view answers f of the site under the shared lock: what tests and fixtures read.
func view[T any](s *Sim, f func(*db) T) T {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return f(s.d)
}

// AddToken registers a web-service token for username in service (ServiceEnrolctl,
// ServiceRead or ServiceTesting). Tokens are not saved by Save.
func (s *Sim) AddToken(tok, service, username string) {
	s.locked(func() { s.tokens[tok] = token{service: service, username: strings.ToLower(username)} })
}

// SetMaxInputVars makes requests behave as under PHP's max_input_vars: arguments
// beyond n in the body (and in the query string) are silently dropped, which usually
// surfaces as a missing key. 0 (the default) is no limit; PHP's default is 1000 and
// Moodle's environment check asks for 5000.
func (s *Sim) SetMaxInputVars(n int) { s.locked(func() { s.maxInputVars = n }) }

// WriteCalls returns how many calls each write function received (calls that passed
// authentication, whatever their outcome).
func (s *Sim) WriteCalls() map[string]int {
	s.logMu.Lock()
	defer s.logMu.Unlock()
	return maps.Clone(s.writes)
}

// Requests returns the request log, oldest first.
func (s *Sim) Requests() []Request {
	s.logMu.Lock()
	defer s.logMu.Unlock()
	return slices.Clone(s.log)
}

// ResetLog clears the request log and the write counters.
func (s *Sim) ResetLog() {
	s.logMu.Lock()
	defer s.logMu.Unlock()
	s.log = nil
	s.writes = map[string]int{}
}

// Handler serves /webservice/rest/server.php (POST or GET) like Moodle's REST server.
func (s *Sim) Handler() http.Handler { return http.HandlerFunc(s.serve) }

func (s *Sim) serve(w http.ResponseWriter, r *http.Request) {
	if !strings.HasSuffix(r.URL.Path, "/webservice/rest/server.php") {
		http.NotFound(w, r)
		return
	}
	if r.Method != http.MethodPost && r.Method != http.MethodGet {
		w.WriteHeader(http.StatusMethodNotAllowed)
		return
	}
	s.mu.RLock()
	enabled, limit := s.d.Config.WebServicesEnabled, s.maxInputVars
	s.mu.RUnlock()
	if !enabled {
		w.WriteHeader(http.StatusForbidden) // server.php dies with an empty 403
		return
	}
	in := newArray()
	if err := parseQuery(in, r.URL.RawQuery, limit); err != nil {
		w.WriteHeader(http.StatusBadRequest)
		return
	}
	if r.Method == http.MethodPost && r.Body != nil {
		body, err := io.ReadAll(io.LimitReader(r.Body, 64<<20))
		if err != nil {
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		if err := parseQuery(in, string(body), limit); err != nil {
			w.WriteHeader(http.StatusBadRequest)
			return
		}
	}
	leaf := func(k string) string {
		n, ok := in.values[k]
		in.remove(k)
		if !ok || !n.leaf {
			return ""
		}
		return n.val
	}
	tok, fn := leaf("wstoken"), leaf("wsfunction")
	asXML := leaf("moodlewsrestformat") != "json" // Moodle's default and fallback is XML
	for _, k := range slices.Clone(in.keys) {
		if strings.HasPrefix(k, "moodlewssetting") {
			in.remove(k)
		}
	}
	siteURL := "http://" + r.Host + strings.TrimSuffix(r.URL.Path, "/webservice/rest/server.php")
	if r.TLS != nil {
		siteURL = "https" + strings.TrimPrefix(siteURL, "http")
	}

	// Reads share the site; writes have it alone.
	lock := s.mu.RLocker()
	if functions[fn].write {
		lock = &s.mu
	}
	lock.Lock()
	res := s.call(tok, fn, in, siteURL, asXML)
	latency := s.latency
	lock.Unlock()
	if latency > 0 {
		select {
		case <-r.Context().Done():
		case <-time.After(latency):
		}
	}

	switch res.fault {
	case FaultHTTP500, FaultAfterWrite:
		w.WriteHeader(http.StatusInternalServerError)
		return
	case FaultTimeout:
		var timer <-chan time.Time
		if res.delay > 0 {
			timer = time.After(res.delay)
		}
		select {
		case <-r.Context().Done():
		case <-timer:
		}
		w.WriteHeader(http.StatusGatewayTimeout)
		return
	}
	if asXML {
		w.Header().Set("Content-Type", "application/xml; charset=utf-8")
	} else {
		w.Header().Set("Content-Type", "application/json")
	}
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(res.body)
}

type result struct {
	body  []byte
	fault FaultKind
	delay time.Duration
}

// call runs one request under s.mu: authentication, function lookup, service access,
// parameter validation, faults, then the function in a transaction.
func (s *Sim) call(tok, fnName string, in *node, siteURL string, asXML bool) result {
	now := s.now()
	entry := Request{Function: fnName, Time: now}
	finish := func(body []byte, outcome string) result {
		entry.Outcome = outcome
		s.logRequest(entry)
		return result{body: body}
	}
	fail := func(e *wsError) result {
		if !s.d.Config.Debug {
			e.DebugInfo = ""
		} else if e.DebugInfo != "" {
			// DEBUG_DEVELOPER with debugdisplay appends the debuginfo to the message.
			e.Message += " (" + e.DebugInfo + ")"
		}
		if asXML {
			return finish(xmlError(e), e.ErrorCode)
		}
		return finish(phpJSON(e), e.ErrorCode)
	}
	t, ok := s.tokens[tok]
	if tok == "" || !ok {
		return fail(moodleErr("invalidtoken", nil))
	}
	user, ok := s.d.userByUsername(t.username)
	if !ok {
		return fail(moodleErr("invalidtoken", nil))
	}
	if user.Suspended {
		return fail(&wsError{Exception: exMoodle, ErrorCode: "wsaccessusersuspended", Message: "Refused web service access for suspended username: " + user.Username})
	}
	if !user.SiteAdmin && !slices.Contains(user.Capabilities, "webservice/rest:use") {
		return fail(&wsError{Exception: exAccess, ErrorCode: "accessexception", Message: "Access control exception",
			DebugInfo: "You are not allowed to use the {$a} protocol (missing capability: webservice/rest:use)"})
	}
	if fnName == "" {
		return fail(invalidParam("Missing function name"))
	}
	fn, ok := functions[fnName]
	if !ok || !s.hasFunction(fnName) {
		return fail(s.missingRecord("external_functions",
			fmt.Sprintf("SELECT * FROM {external_functions} WHERE name = ?\n[array (\n  0 => '%s',\n)]", fnName)))
	}
	// The enrolctl services name local/enrolctl:manage as their required capability, so
	// webservice_server skips them for a user without it: the function is "not allowed",
	// whatever function it is (core ones included), before any function runs.
	if !slices.Contains(serviceFunctions(t.service), fnName) ||
		(!user.SiteAdmin && !slices.Contains(user.Capabilities, "local/enrolctl:manage")) {
		return fail(&wsError{Exception: exAccess, ErrorCode: "accessexception", Message: "Access control exception",
			DebugInfo: "Access to the function " + fnName + "() is not allowed.\nThere could be multiple reasons for this:\n1. The service linked to the user token does not contain the function.\n2. The service is user-restricted and the user is not listed.\n3. The service is disabled."})
	}
	entry.Write = fn.write
	if fn.write {
		s.logMu.Lock()
		s.writes[fnName]++
		s.logMu.Unlock()
	}
	a, perr := validate(s.paramsOf(fnName, fn), in)
	if perr != nil {
		return fail(perr)
	}
	var kind FaultKind
	var delay time.Duration
	if fn.write && s.faults != nil {
		kind, delay = s.faults.decide(fnName)
	}
	switch kind {
	case FaultException:
		return fail(&wsError{Exception: exWrite, ErrorCode: "dmlwriteexception", Message: "Error writing to database",
			DebugInfo: "injected fault"})
	case FaultHTTP500, FaultTimeout:
		entry.Outcome = faultNames[kind]
		s.logRequest(entry)
		return result{fault: kind, delay: delay}
	}

	var victims map[int64]int
	if fn.write && s.deadlockWindow > 0 {
		s.callSeq++
		var claimed []int64
		victims, claimed = s.holdUserLocks(s.callSeq, s.lockGroups(fnName, args(a.(map[string]any))))
		window := s.deadlockWindow
		s.mu.Unlock() // the transaction is open: other calls run meanwhile
		time.Sleep(window)
		s.mu.Lock()
		defer func() {
			for _, u := range claimed {
				delete(s.userLocks, u)
			}
		}()
		if _, lost := victims[0]; lost && fnName != "local_enrolctl_write" {
			return fail(deadlockErr())
		}
	}

	c := &ctx{s: s, user: user, service: t.service, siteURL: siteURL, xml: asXML, t: &tx{d: s.d, now: now.Unix(), actor: user.ID},
		deadlocked: victims}
	if fn.tx {
		s.d.begin()
	}
	out, err := fn.run(c, args(a.(map[string]any)))
	if err == nil {
		c.t.settle()
	}
	if fn.tx {
		if err != nil {
			s.d.rollback()
		} else {
			s.d.commit()
		}
	}
	if err != nil {
		return fail(err)
	}
	if kind == FaultAfterWrite {
		entry.Outcome = faultNames[kind]
		s.logRequest(entry)
		return result{fault: kind}
	}
	if asXML {
		return finish(xmlResponse(out), "ok")
	}
	return finish(phpJSON(out), "ok")
}

// ctx is one call's environment.
type ctx struct {
	s       *Sim
	user    User
	service string
	siteURL string
	// xml says the answer is Moodle's XML, not JSON.
	xml bool
	t   *tx
	// ids collects the ids a local_enrolctl_write course returns.
	ids []int64
	// deadlocked are the courses the deadlock fault aborts, with the index (in the
	// course's items) of the item that met the lock.
	deadlocked map[int64]int
}

func (c *ctx) d() *db { return c.s.d }

// require is require_capability().
func (c *ctx) require(capability string) *wsError {
	if c.has(capability) {
		return nil
	}
	return noPermission(capability)
}

// has is has_capability(): site admins have every capability, other users those
// SetCapabilities gave them.
func (c *ctx) has(capability string) bool {
	return c.user.SiteAdmin || slices.Contains(c.user.Capabilities, capability)
}

// assignable is get_assignable_roles() in a course context: the role must be
// assignable at course level and the user able to assign roles.
func (c *ctx) assignable(roleID int64) bool {
	return assignableInCourse(roleID) && c.has("moodle/role:assign")
}

// phpJSON encodes like PHP's json_encode(): "/" escaped, non-ASCII as \uXXXX, nil as null.
func phpJSON(v any) []byte {
	if rows, ok := v.(courseRowsJSON); ok {
		return rows.appendQuoted(make([]byte, 0, rows.quotedSize()))
	}
	if cr, ok := v.(coursesWithRows); ok {
		head := phpJSON(cr.head) // an object: its "}" gives way to the rows
		out := append(make([]byte, 0, len(head)+16+cr.rows.quotedSize()), head[:len(head)-1]...)
		out = cr.rows.appendQuoted(append(out, `,"rows":`...))
		return append(out, '}')
	}
	if states, ok := v.(courseStatesString); ok {
		n := 4
		for _, b := range states {
			n += len(b) + 1
		}
		out := append(make([]byte, 0, n), '"', '[')
		for i, b := range states {
			if i > 0 {
				out = append(out, ',')
			}
			out = append(out, b...)
		}
		return append(out, ']', '"')
	}
	if states, ok := v.(courseStatesJSON); ok {
		n := 2
		for _, b := range states {
			n += len(b) + 1
		}
		out := append(make([]byte, 0, n), '[')
		for i, b := range states {
			if i > 0 {
				out = append(out, ',')
			}
			out = append(out, b...)
		}
		return append(out, ']')
	}
	if states, ok := v.([]courseState); ok {
		// The biggest answers, without reflection; about 6 KB a course.
		return appendCourseStates(make([]byte, 0, 6<<10*len(states)), states)
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		panic(err) // only plain values are encoded
	}
	return phpEscape(bytes.TrimRight(buf.Bytes(), "\n"))
}

// phpEscape turns Go's JSON into json_encode's: "/" escaped, non-ASCII as \uXXXX.
func phpEscape(raw []byte) []byte {
	out := make([]byte, 0, len(raw)+16)
	for i := 0; i < len(raw); {
		if c := raw[i]; c < utf8.RuneSelf && c != '/' {
			out = append(out, c)
			i++
			continue
		}
		r, size := utf8.DecodeRune(raw[i:])
		switch {
		case r == '/':
			out = append(out, '\\', '/')
		case r < utf8.RuneSelf:
			out = append(out, raw[i])
		case r > 0xFFFF:
			r -= 0x10000
			out = appendU(appendU(out, 0xD800+(r>>10)), 0xDC00+(r&0x3FF))
		default:
			out = appendU(out, r)
		}
		i += size
	}
	return out
}

func itoa(v int64) string { return strconv.FormatInt(v, 10) }

func (s *Sim) logRequest(e Request) {
	s.logMu.Lock()
	s.log = append(s.log, e)
	s.logMu.Unlock()
}

// appendU appends \uXXXX (lowercase hex, as json_encode writes it).
func appendU(out []byte, r rune) []byte {
	const hex = "0123456789abcdef"
	return append(out, '\\', 'u', hex[r>>12&0xF], hex[r>>8&0xF], hex[r>>4&0xF], hex[r&0xF])
}
