package cli

import (
	"strings"
	"syscall"
	"testing"

	"github.com/enrolctl/enrolctl/internal/config"
	"github.com/enrolctl/enrolctl/internal/moodle"
)

// A read that Ctrl-C or SIGTERM stopped is said as such, not as a site out of reach
// (the signal is the request's cause, not context.Canceled).
func TestSiteReadErrorOfASignal(t *testing.T) {
	conn := &siteConn{name: "prod", site: &config.Site{URL: "https://moodle.example"}}
	for _, sig := range []syscall.Signal{syscall.SIGINT, syscall.SIGTERM} {
		err := siteReadError(conn, &moodle.TransportError{Function: "local_enrolctl_get_courses", Err: &signalError{sig: sig}})
		if strings.Contains(err.Error(), "cannot reach") || !strings.Contains(err.Error(), "interrupted") {
			t.Errorf("%v: %v", sig, err)
		}
	}
	if err := siteReadError(conn, &moodle.TransportError{Function: "f", Err: syscall.ECONNREFUSED}); !strings.Contains(err.Error(), "cannot reach") {
		t.Errorf("a refused connection: %v", err)
	}
}
