package cli

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"os/exec"
	"strings"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/enrolctl/enrolctl/internal/apply"
	"github.com/enrolctl/enrolctl/internal/moodlesim"
)

// Testscript commands for the fault suite, on the site moodlesite serves:
//
//	moodlefault course SHORTNAME ERRORCODE MESSAGE
//	                    every write of that course fails in its transaction
//	moodlefault release every release of the apply lease fails (HTTP 500)
//	moodlefault drop    the next write is applied, and its answer lost (the
//	                    connection drops)
//	moodlefault clear   no more faults
//	moodlelease dead    the apply lease is held by a process of this host that is
//	                    gone (a killed apply); sets $LEASE_ID
//	moodlelease other   the apply lease is held by an apply of another host; sets
//	                    $LEASE_ID
//	moodlelease         print how many leases are stored, then their holders,
//	                    one a line
//	validaudit FILE     every line of the audit log FILE validates against
//	                    docs/audit.schema.json
//	auditmatches REPORT AUDIT
//	                    the status of the apply report REPORT (apply -o json) is the
//	                    status of the last end line of the audit log AUDIT
func withFaultCmds(cmds map[string]func(ts *testscript.TestScript, neg bool, args []string)) map[string]func(ts *testscript.TestScript, neg bool, args []string) {
	sim := func(ts *testscript.TestScript) *moodlesim.Sim {
		s := ts.Value("moodlesite").(*moodleSite).sim
		if s == nil {
			ts.Fatalf("moodlesite first")
		}
		return s
	}
	cmds["moodlefault"] = func(ts *testscript.TestScript, neg bool, args []string) {
		if neg || len(args) == 0 {
			ts.Fatalf("usage: moodlefault course|release|drop|clear ...")
		}
		s := sim(ts)
		switch {
		case args[0] == "course" && len(args) == 4:
			s.FailCourse(s.CourseID(args[1]), args[2], args[3], 0)
		case args[0] == "release":
			s.InjectFaults(moodlesim.FaultConfig{Rate: 1, Functions: []string{"local_enrolctl_release_lease"}, Kind: moodlesim.FaultHTTP500})
		case args[0] == "drop":
			s.InjectFaults(moodlesim.FaultConfig{Rate: 1, Functions: []string{"local_enrolctl_write"}, Kind: moodlesim.FaultAfterWrite, Max: 1})
		case args[0] == "clear":
			s.ClearFaults()
			s.ClearCourseFaults()
		default:
			ts.Fatalf("usage: moodlefault course SHORTNAME ERRORCODE MESSAGE | release | drop | clear")
		}
	}
	cmds["moodlelease"] = func(ts *testscript.TestScript, neg bool, args []string) {
		s := sim(ts)
		if neg || len(args) > 1 {
			ts.Fatalf("usage: moodlelease [dead|other]")
		}
		if len(args) == 0 {
			fmt.Fprintf(ts.Stdout(), "%d lease(s)\n", len(s.Leases()))
			for _, l := range s.Leases() {
				fmt.Fprintln(ts.Stdout(), l.Holder)
			}
			return
		}
		h := apply.ThisProcess("ci", apply.NewRunID(), "")
		switch args[0] {
		case "dead":
			cmd := exec.Command("true")
			if err := cmd.Run(); err != nil {
				ts.Fatalf("%v", err)
			}
			h.PID = cmd.Process.Pid
		case "other":
			h.Host, h.PIDNS = "another-runner", ""
		default:
			ts.Fatalf("usage: moodlelease [dead|other]")
		}
		s.HoldLease("apply", h.String(), 600)
		ts.Setenv("LEASE_ID", h.ID)
	}
	cmds["validaudit"] = func(ts *testscript.TestScript, neg bool, args []string) {
		if neg || len(args) != 1 {
			ts.Fatalf("usage: validaudit FILE")
		}
		sc := bufio.NewScanner(strings.NewReader(ts.ReadFile(args[0])))
		sc.Buffer(nil, 1<<24)
		for n := 1; sc.Scan(); n++ {
			if err := apply.ValidateAuditLine(sc.Bytes()); err != nil {
				ts.Fatalf("%s:%d does not validate against docs/audit.schema.json: %v", args[0], n, err)
			}
		}
	}
	cmds["auditmatches"] = func(ts *testscript.TestScript, neg bool, args []string) {
		if neg || len(args) != 2 {
			ts.Fatalf("usage: auditmatches REPORT AUDIT")
		}
		var report struct{ Status string }
		if err := json.Unmarshal([]byte(ts.ReadFile(args[0])), &report); err != nil {
			ts.Fatalf("%s: %v", args[0], err)
		}
		var end struct{ Event, Status string }
		for _, line := range bytes.Split([]byte(ts.ReadFile(args[1])), []byte("\n")) {
			var l struct{ Event, Status string }
			if json.Unmarshal(line, &l) == nil && l.Event == "end" {
				end = l
			}
		}
		if end.Event == "" || end.Status != report.Status {
			ts.Fatalf("the audit's last end line says %q, the report %q", end.Status, report.Status)
		}
		fmt.Fprintf(ts.Stdout(), "status %s\n", end.Status)
	}
	return cmds
}
