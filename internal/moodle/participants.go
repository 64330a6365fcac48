package moodle

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/enrolctl/enrolctl/internal/state"
)

// Participant is one user of a course with what Moodle's Participants page shows of
// them besides enrolments, roles and groups.
type Participant struct {
	UserID    int64
	Username  string
	Firstname string
	Lastname  string
	Email     string
	IDNumber  string
	// LastCourseAccess is the user's last access to this course (unix seconds, 0: never).
	LastCourseAccess int64
	// Suspended is the account's suspension (auth level), not an enrolment's.
	Suspended bool
}

// FullName is the name as Moodle's default fullnamedisplay shows it.
func (p Participant) FullName() string {
	return strings.TrimSpace(p.Firstname + " " + p.Lastname)
}

// CourseParticipants reads one course and its users, ordered by user id. Against a
// plugin older than Contract v2 only usernames and ids are known.
func (c *Client) CourseParticipants(ctx context.Context, site *Site, shortname string) (state.Course, []Participant, error) {
	ref, ok := site.CourseByName(shortname)
	if !ok {
		return state.Course{}, nil, fmt.Errorf("course %s does not exist on %s", shortname, c.SiteURL())
	}
	states, err := c.CourseStates(ctx, []int64{ref.ID})
	if err != nil {
		return state.Course{}, nil, err
	}
	cs := states[0]
	course := ToCourse(cs)
	course.Category = ref.CategoryPath
	var people []Participant
	if len(cs.Users) > 0 {
		people = make([]Participant, len(cs.Users))
		for i, u := range cs.Users {
			people[i] = Participant{UserID: u.ID, Username: u.Username, Firstname: u.Firstname, Lastname: u.Lastname,
				Email: u.Email, IDNumber: u.IDNumber, LastCourseAccess: u.LastCourseAccess, Suspended: u.Suspended != 0}
		}
		return course, people, nil
	}
	users := map[string]int64{}
	knownUsers(&cs, users)
	for name, id := range users {
		people = append(people, Participant{UserID: id, Username: name})
	}
	slices.SortFunc(people, func(a, b Participant) int { return cmp.Compare(a.UserID, b.UserID) })
	return course, people, nil
}
