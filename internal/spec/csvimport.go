package spec

import (
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/enrolctl/enrolctl/internal/diag"
)

// Addition is one manual enrolment a CSV import asks for, ready to be written into the
// course's spec.
type Addition struct {
	Course   string
	Username string
	// Role is the role shortname; "" leaves the course's default role.
	Role   string
	Groups []string
	// From and Until are days (YYYY-MM-DD) in the site's time zone; "" for none.
	// Until is computed from the row's enrolment period when the file is imported,
	// so the spec holds a date and plans do not move from day to day.
	From, Until string
	Suspended   bool
	// Line is the CSV line the addition comes from; UserCol and CourseCol the columns
	// of its username and course (for messages about users or courses the site lacks).
	Line, UserCol, CourseCol int
	// Email is the row's email, which suggests the right username for an unknown one.
	Email string
}

// legacyTypes are Moodle's upload-users typeN values, used when roleN is empty.
var legacyTypes = map[string]string{"1": "student", "2": "editingteacher", "3": "teacher"}

var (
	numberedColumn = regexp.MustCompile(`^(course|role|type|group|enrolperiod|enrolstatus|enroltimestart)([1-9][0-9]*)$`)
	periodPattern  = regexp.MustCompile(`^(\d+)\s*(d|days?)?$`)
)

// ReadUploadUsers reads a CSV in Moodle's upload-users format (username, firstname,
// lastname, email, course1, role1, group1, enrolperiod1, enrolstatus1, course2, ...)
// and returns one Addition per (user, course), sorted by course then username.
//
// As in Moodle: usernames are lower-cased; enrolperiodN is a number of days (365 or
// 365d) counted from enroltimestartN (a YYYY-MM-DD day) or else from today (now in
// loc), and the enrolment ends at the midnight that closes the period, written as the
// day before it (until: 2027-11-22 ends at 2027-11-23T00:00); enrolstatusN is 0
// (active) or 1 (suspended). Columns enrolctl does not use (names, email, password,
// profile fields) are ignored. roles lists the site's extra role shortnames.
func ReadUploadUsers(file string, r io.Reader, now time.Time, loc *time.Location, roles []string) ([]Addition, Diagnostics) {
	if loc == nil {
		loc = time.UTC
	}
	var ds diag.Diagnostics
	errorf := func(line, col int, format string, args ...any) {
		ds = append(ds, diag.Errorf(diag.Pos{File: file, Line: line, Col: col}, format, args...))
	}
	raw, err := io.ReadAll(r)
	if err != nil {
		errorf(1, 1, "cannot read: %v", err)
		return nil, ds
	}
	text, err := DecodeCSV(raw)
	if err != nil {
		errorf(0, 0, "%v", err)
		return nil, ds
	}
	if text.Encoding != "" {
		ds = append(ds, diag.Diagnostic{File: file, Severity: diag.Warning,
			Message: fmt.Sprintf("the file is %s, not UTF-8: converted (save it as CSV UTF-8 to silence this)", text.Encoding)})
	}
	cr := csv.NewReader(bytes.NewReader(text.Data))
	cr.Comma = text.Separator
	cr.FieldsPerRecord = -1
	cr.TrimLeadingSpace = true
	header, err := cr.Read()
	if err != nil {
		if errors.Is(err, io.EOF) {
			err = errors.New("the file is empty")
		}
		errorf(1, 1, "cannot read the CSV header: %v", err)
		return nil, ds
	}
	if len(header) > 0 {
		header[0] = strings.TrimPrefix(header[0], "\ufeff") // a BOM from spreadsheet exports
	}
	cols := map[string]int{}
	numbers := []int{}
	for i, h := range header {
		h = strings.ToLower(strings.TrimSpace(h))
		if _, dup := cols[h]; dup && h != "" {
			errorf(1, i+1, "column %q appears twice", h)
		}
		cols[h] = i
		if m := numberedColumn.FindStringSubmatch(h); m != nil && m[1] == "course" {
			n, _ := strconv.Atoi(m[2])
			numbers = append(numbers, n)
		}
	}
	userCol, ok := cols["username"]
	if !ok {
		errorf(1, 1, "the CSV has no username column (Moodle's upload-users format: username, firstname, lastname, email, course1, role1, group1, enrolperiod1, enrolstatus1, ...)")
		return nil, ds
	}
	if len(numbers) == 0 {
		errorf(1, 1, "the CSV has no course1 column: nothing to enrol")
		return nil, ds
	}
	slices.Sort(numbers)
	allRoles := append(slices.Clone(StandardRoles), roles...)
	today := now.In(loc)
	type key struct{ course, user string }
	seen := map[key]int{}
	var out []Addition
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			var pe *csv.ParseError
			if errors.As(err, &pe) {
				errorf(pe.Line, pe.Column, "bad CSV: %v", pe.Err)
			} else {
				errorf(0, 0, "bad CSV: %v", err)
			}
			break
		}
		line, _ := cr.FieldPos(0)
		// Columns are bytes of the line, as in specs, not field numbers.
		colOf := func(i int) int { _, c := cr.FieldPos(i); return c }
		get := func(name string) (string, int) {
			i, ok := cols[name]
			if !ok || i >= len(rec) {
				return "", 0
			}
			return strings.TrimSpace(rec[i]), colOf(i)
		}
		if userCol >= len(rec) || strings.TrimSpace(strings.Join(rec, "")) == "" {
			continue // blank line
		}
		username := strings.ToLower(strings.TrimSpace(rec[userCol]))
		if username == "" {
			errorf(line, colOf(userCol), "empty username")
			continue
		}
		if strings.ContainsFunc(username, func(r rune) bool { return r == ' ' || r == '\t' }) {
			errorf(line, colOf(userCol), "username %q contains a space; Moodle usernames have none", username)
			continue
		}
		for _, n := range numbers {
			suffix := strconv.Itoa(n)
			course, courseCol := get("course" + suffix)
			if course == "" {
				continue
			}
			email, _ := get("email")
			a := Addition{Course: course, Username: username, Line: line, UserCol: colOf(userCol), CourseCol: courseCol, Email: strings.ToLower(email)}
			role, roleCol := get("role" + suffix)
			if role == "" {
				if t, tcol := get("type" + suffix); t != "" {
					if role = legacyTypes[t]; role == "" {
						errorf(line, tcol, "type%s %q: use 1 (student), 2 (editingteacher) or 3 (teacher), or a role%s column", suffix, t, suffix)
						continue
					}
				}
			} else if !slices.Contains(allRoles, role) {
				ds = append(ds, unknownRole(diag.Pos{File: file, Line: line, Col: roleCol}, role, allRoles, false))
				continue
			}
			a.Role = role
			if g, _ := get("group" + suffix); g != "" {
				a.Groups = []string{g}
			}
			start := time.Date(today.Year(), today.Month(), today.Day(), 0, 0, 0, 0, loc)
			if s, scol := get("enroltimestart" + suffix); s != "" {
				t, err := parseDay(s, loc)
				if err != nil {
					errorf(line, scol, "enroltimestart%s %q: use a day, YYYY-MM-DD", suffix, s)
					continue
				}
				start, a.From = t, s
			}
			// As in Moodle, no enrolment period means no end date (not the spec's default).
			a.Until = "never"
			if p, pcol := get("enrolperiod" + suffix); p != "" && p != "0" {
				m := periodPattern.FindStringSubmatch(strings.ToLower(p))
				days := 0
				if m != nil {
					days, _ = strconv.Atoi(m[1])
				}
				if days <= 0 || days > 36600 {
					errorf(line, pcol, "enrolperiod%s %q: use a number of days (365 or 365d)", suffix, p)
					continue
				}
				// The period ends at midnight after days full days; the spec names the last day.
				a.Until = time.Date(start.Year(), start.Month(), start.Day()+days-1, 0, 0, 0, 0, loc).Format(time.DateOnly)
			}
			switch st, scol := get("enrolstatus" + suffix); st {
			case "", "0":
			case "1":
				a.Suspended = true
			default:
				errorf(line, scol, "enrolstatus%s %q: use 0 (active) or 1 (suspended)", suffix, st)
				continue
			}
			k := key{course, username}
			if first, dup := seen[k]; dup {
				errorf(line, colOf(userCol), "user %q is enrolled in %q twice (first on line %d)", username, course, first)
				ds[len(ds)-1] = ds[len(ds)-1].About(diag.DuplicateUser, diag.Subject{Course: course, User: username})
				continue
			}
			seen[k] = line
			out = append(out, a)
		}
	}
	slices.SortStableFunc(out, func(a, b Addition) int {
		return cmpOr(strings.Compare(a.Course, b.Course), strings.Compare(a.Username, b.Username))
	})
	return out, ds.Sort()
}
