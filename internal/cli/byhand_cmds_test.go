package cli

import (
	"os"
	"strconv"
	"strings"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/enrolctl/enrolctl/internal/moodlesim"
)

// Testscript command for what a Moodle administrator does by hand on the site
// moodlesite serves, behind enrolctl's back:
//
//	byhand enrol COURSE USER          a manual enrolment (student)
//	byhand member COURSE GROUP USER   a manual group membership
//	byhand self COURSE NAME           an enabled self enrolment method
//	byhand user COURSE USER FIRST LAST  a new user, enrolled by hand
//	byhand plugin COURSE NAME         an instance of an unknown plugin (\n: a line break)
//	byhand course CATEGORY SHORT FULL a new course (names unquoted: \x1b, \r, \u202e)
//
// and envsubst FILE, which expands $VAR in FILE.
func withByHandCmds(cmds map[string]func(ts *testscript.TestScript, neg bool, args []string)) map[string]func(ts *testscript.TestScript, neg bool, args []string) {
	cmds["byhand"] = func(ts *testscript.TestScript, neg bool, args []string) {
		holder := ts.Value("moodlesite").(*moodleSite)
		if neg || holder.sim == nil || len(args) < 3 {
			ts.Fatalf("usage: byhand enrol|member|self COURSE ... (after moodlesite)")
		}
		sim := holder.sim
		if args[0] == "course" && len(args) == 4 {
			// byhand course CATEGORY SHORTNAME FULLNAME: a new course, names unquoted
			// as Go strings (\x1b, \r, \u202e), no enrolment method.
			cat := sim.AddCategory(args[1])
			sim.AddCourse(moodlesim.Course{Shortname: unquoteArg(args[2]), Fullname: unquoteArg(args[3]), Category: cat, Visible: true})
			return
		}
		course := sim.CourseID(unquoteArg(args[1]))
		if course == 0 {
			ts.Fatalf("byhand: no course %s", args[1])
		}
		const student = 5
		switch {
		case args[0] == "enrol" && len(args) == 3:
			var manual int64
			for _, in := range sim.Instances(course) {
				if in.Enrol == "manual" {
					manual = in.ID
				}
			}
			if manual == 0 {
				manual = sim.AddInstance(moodlesim.Instance{Enrol: "manual", CourseID: course, RoleID: student})
			}
			sim.Enrol(manual, userID(ts, sim, args[2]), student, 0, 0, false)
		case args[0] == "member" && len(args) == 4:
			group := sim.GroupID(course, args[2])
			if group == 0 {
				ts.Fatalf("byhand: no group %s in %s", args[2], args[1])
			}
			sim.AddMember(group, userID(ts, sim, args[3]))
		case args[0] == "user" && len(args) == 5:
			// byhand user COURSE USERNAME FIRSTNAME LASTNAME: a new user, enrolled by hand.
			sim.AddUser(moodlesim.User{Username: args[2], Firstname: unquoteArg(args[3]), Lastname: unquoteArg(args[4]), Email: args[2] + "@example.edu", Auth: "manual"})
			var manual int64
			for _, in := range sim.Instances(course) {
				if in.Enrol == "manual" {
					manual = in.ID
				}
			}
			sim.Enrol(manual, userID(ts, sim, args[2]), student, 0, 0, false)
		case args[0] == "plugin" && len(args) == 3:
			// byhand plugin COURSE NAME: an instance of an enrol plugin enrolctl does not
			// know, whatever its name (\n in NAME is a line break).
			sim.AddInstance(moodlesim.Instance{Enrol: strings.ReplaceAll(args[2], `\n`, "\n"), CourseID: course, Status: moodlesim.InstanceEnabled})
		case args[0] == "self" && len(args) == 3:
			sim.AddInstance(moodlesim.Instance{Enrol: "self", CourseID: course, Name: args[2], RoleID: student, Status: moodlesim.InstanceEnabled})
		default:
			ts.Fatalf("usage: byhand enrol COURSE USER | member COURSE GROUP USER | self COURSE NAME")
		}
	}
	// envsubst FILE: expand $VAR and ${VAR} in FILE with the script's environment (a
	// spec that holds a token, for the redaction scripts).
	cmds["envsubst"] = func(ts *testscript.TestScript, neg bool, args []string) {
		if neg || len(args) != 1 {
			ts.Fatalf("usage: envsubst FILE")
		}
		text := os.Expand(ts.ReadFile(args[0]), ts.Getenv)
		if err := os.WriteFile(ts.MkAbs(args[0]), []byte(text), 0o644); err != nil {
			ts.Fatalf("%v", err)
		}
	}
	return cmds
}

// unquoteArg reads \x1b, \r and the like in a script argument as Go does.
func unquoteArg(s string) string {
	if u, err := strconv.Unquote(`"` + s + `"`); err == nil {
		return u
	}
	return s
}

func userID(ts *testscript.TestScript, sim *moodlesim.Sim, username string) int64 {
	id := sim.UserID(username)
	if id == 0 {
		ts.Fatalf("byhand: no user %s", username)
	}
	return id
}
