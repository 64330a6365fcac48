package moodle

import (
	"context"
	"errors"
	"fmt"
	"html"
	"net/http"
	"strings"
)

// Error is an exception Moodle returned for a call (HTTP 200 with an errorcode).
type Error struct {
	Function  string // the web-service function called
	Course    string // the course shortname the call was about, when known
	User      string // the username the call was about, when known
	ErrorCode string // Moodle's errorcode: the only field to branch on
	Message   string
	DebugInfo string
	Exception string
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("moodle: ")
	b.WriteString(e.Function)
	var about []string
	if e.Course != "" {
		about = append(about, "course "+e.Course)
	}
	if e.User != "" {
		about = append(about, "user "+e.User)
	}
	if len(about) > 0 {
		b.WriteString(" (" + strings.Join(about, ", ") + ")")
	}
	fmt.Fprintf(&b, ": %s: %s", e.ErrorCode, e.Message)
	if e.DebugInfo != "" {
		b.WriteString(" [" + e.DebugInfo + "]")
	}
	if hint := hints[e.ErrorCode]; hint != "" {
		b.WriteString(" — " + hint)
	}
	return b.String()
}

// hints say what to fix for the errors an administrator can fix.
var hints = map[string]string{
	"invalidtoken":        "the token is unknown to this Moodle: check the site's token_env/token_file",
	"accessexception":     "the token's user lacks local/enrolctl:manage, its service lacks this function (a token of the read-only enrolctl_read service writes nothing), or the token expired or is IP-restricted: run `enrolctl doctor`",
	"plugindisabled":      "enable the plugin in Site administration > Plugins > Enrolments > Manage enrol plugins",
	"nopermissions":       "give the enrolctl account's role the capability named above (docs/moodle-setup.md)",
	"invalidrecord":       "the function or record does not exist: is local_enrolctl installed and up to date? run `enrolctl doctor`",
	"unknowncohort":       "create the cohort or fix its idnumber in the spec",
	"servicenotavailable": "enable the enrolctl external service",
}

// TransportError is a failure below Moodle's JSON protocol: the network, a timeout, an
// HTTP status other than 200, or a body that is not JSON. For a write, the outcome is
// unknown.
type TransportError struct {
	Function string
	Status   int // HTTP status, 0 when no response arrived
	Err      error
	// Timeout: no answer came in the call's time (writeTimeout): a write may still be
	// running on the site.
	Timeout bool
}

func (e *TransportError) Error() string {
	if e.Timeout {
		return fmt.Sprintf("moodle: %s: no answer in time (%v)", e.Function, e.Err)
	}
	if e.Status != 0 {
		return fmt.Sprintf("moodle: %s: HTTP %d: %v", e.Function, e.Status, e.Err)
	}
	return fmt.Sprintf("moodle: %s: %v", e.Function, e.Err)
}

func (e *TransportError) Unwrap() error { return e.Err }

// ErrWebServicesDisabled is what Moodle's empty HTTP 403 means.
var ErrWebServicesDisabled = errors.New("web services or the REST protocol are disabled on this Moodle (Site administration > Advanced features > Enable web services; Server > Web services > Manage protocols > REST)")

// ErrRedirect is the cause of a TransportError for an answer that redirects: enrolctl
// never follows one, since that would re-send the token to wherever it points.
var ErrRedirect = errors.New("Moodle answered with a redirect")

// Code returns Moodle's errorcode when err is (or wraps) an *Error, else "".
func Code(err error) string {
	var me *Error
	if errors.As(err, &me) {
		return me.ErrorCode
	}
	return ""
}

// MayStillRun says whether a write that failed with err may still be running on the
// site: it timed out, was given up (interrupted), or a gateway timed out waiting for it.
// Such a call is never sent again while it may run; its outcome is read back later.
func MayStillRun(err error) bool {
	var te *TransportError
	if !errors.As(err, &te) {
		return false
	}
	return te.Timeout || te.Status == http.StatusGatewayTimeout || errors.Is(te.Err, context.Canceled) || errors.Is(te.Err, context.DeadlineExceeded)
}

// PlainText reduces an HTML message (Moodle's dbconnectionfailed is three paragraphs)
// to one line of text: tags dropped, entities decoded, white space collapsed. Text
// that holds no closing tag, <br> or entity is returned as it is ("a < b" stays).
func PlainText(s string) string {
	if !strings.Contains(s, "</") && !strings.Contains(s, "<br") && !strings.Contains(s, "&") {
		return s
	}
	var b strings.Builder
	in := false
	for _, r := range s {
		switch {
		case r == '<':
			in = true
			b.WriteByte(' ')
		case r == '>' && in:
			in = false
		case !in:
			b.WriteRune(r)
		}
	}
	return strings.Join(strings.Fields(html.UnescapeString(b.String())), " ")
}
