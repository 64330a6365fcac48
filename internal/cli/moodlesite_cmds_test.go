package cli

import (
	"fmt"
	"net/http/httptest"
	"os"
	"strings"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/enrolctl/enrolctl/internal/moodlesim"
)

// The tokens of the site moodlesite serves: they look like Moodle's (32 hex digits),
// so that a script asserting that no output carries them checks something real.
const (
	siteWriteToken = "a0a1a2a3a4a5a6a7a8a9aaabacadaeaf" // service enrolctl
	siteReadToken  = "b0b1b2b3b4b5b6b7b8b9babbbcbdbebf" // service enrolctl_read
)

// Testscript commands for a configured Moodle site served over HTTP:
//
//	moodlesite FILE...  serve the demo Moodle (moodlesim) at $MOODLE_URL, with the
//	                    tokens $WRITE_TOKEN (service enrolctl) and $READ_TOKEN
//	                    (service enrolctl_read), and write its URL where FILEs say
//	                    MOODLE_URL
//	moodlelog           print the calls the site answered since the last moodlelog,
//	                    one a line: function, outcome ("ok" or Moodle's errorcode),
//	                    and WROTE for a write that succeeded
func withMoodleSiteCmds(cmds map[string]func(ts *testscript.TestScript, neg bool, args []string)) map[string]func(ts *testscript.TestScript, neg bool, args []string) {
	cmds["moodlesite"] = func(ts *testscript.TestScript, neg bool, args []string) {
		holder := ts.Value("moodlesite").(*moodleSite)
		if neg || holder.sim != nil {
			ts.Fatalf("usage: moodlesite FILE... (once per script)")
		}
		sim := moodlesim.DemoSite()
		sim.AddToken(siteWriteToken, moodlesim.ServiceEnrolctl, "admin")
		sim.AddToken(siteReadToken, moodlesim.ServiceRead, "admin")
		srv := httptest.NewServer(sim.Handler())
		ts.Defer(srv.Close)
		holder.sim = sim
		ts.Setenv("MOODLE_URL", srv.URL)
		ts.Setenv("WRITE_TOKEN", siteWriteToken)
		ts.Setenv("READ_TOKEN", siteReadToken)
		for _, f := range args {
			text := strings.ReplaceAll(ts.ReadFile(f), "MOODLE_URL", srv.URL)
			if err := os.WriteFile(ts.MkAbs(f), []byte(text), 0o644); err != nil {
				ts.Fatalf("%v", err)
			}
		}
	}
	cmds["moodlelog"] = func(ts *testscript.TestScript, neg bool, args []string) {
		sim := ts.Value("moodlesite").(*moodleSite).sim
		if neg || len(args) != 0 || sim == nil {
			ts.Fatalf("usage: moodlelog (after moodlesite)")
		}
		for _, r := range sim.Requests() {
			wrote := ""
			if r.Write && r.Outcome == "ok" {
				wrote = " WROTE"
			}
			fmt.Fprintf(ts.Stdout(), "%s %s%s\n", r.Function, r.Outcome, wrote)
		}
		sim.ResetLog()
	}
	return cmds
}

// moodleSite holds a script's served site (one per script, made by moodlesite).
type moodleSite struct{ sim *moodlesim.Sim }

// checkNoToken fails the script when the last command's output carries a token of the
// site moodlesite serves (its tokens look real, so the check means something). The
// exits and cijob commands call it.
func checkNoToken(ts *testscript.TestScript) {
	for _, tok := range []string{siteWriteToken, siteReadToken} {
		if strings.Contains(ts.ReadFile("stdout"), tok) || strings.Contains(ts.ReadFile("stderr"), tok) {
			ts.Fatalf("the output carries a token of the site (%s...)", tok[:4])
		}
	}
}
