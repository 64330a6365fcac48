package moodlesim

import (
	"cmp"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"slices"
	"time"
)

// fileFormat is the version of the saved JSON. Format 2 added user_lastaccess and
// leases; Load reads formats 1 and 2 and refuses others.
const fileFormat = 2

// saved is the file form of a site: every table as a list ordered by id, so the same
// site always saves to the same bytes. Tokens and the request log are not saved.
type saved struct {
	Format        int              `json:"format"`
	Config        config           `json:"config"`
	NextID        map[string]int64 `json:"nextid"`
	Categories    []Category       `json:"categories"`
	Courses       []Course         `json:"courses"`
	Users         []User           `json:"users"`
	Cohorts       []Cohort         `json:"cohorts"`
	CohortMembers []CohortMember   `json:"cohort_members"`
	Instances     []Instance       `json:"enrol"`
	UEs           []UserEnrolment  `json:"user_enrolments"`
	RAs           []RoleAssignment `json:"role_assignments"`
	Groups        []Group          `json:"groups"`
	Members       []GroupMember    `json:"groups_members"`
	Grades        []GradeDeletion  `json:"grades_deleted"`
	LastAccess    []LastAccess     `json:"user_lastaccess,omitempty"`
	Leases        []Lease          `json:"leases,omitempty"`
}

// sortedValues is m's values in the order of their keys.
func sortedValues[K cmp.Ordered, T any](m map[K]T) []T {
	out := make([]T, 0, len(m))
	for _, k := range slices.Sorted(maps.Keys(m)) {
		out = append(out, m[k])
	}
	return out
}

// toMap keys a table's rows by id; the first bad or duplicate id is kept in *err,
// after which toMap does nothing.
func toMap[T any](err *error, list []T, id func(T) int64) map[int64]T {
	m := make(map[int64]T, len(list))
	for _, v := range list {
		if *err != nil {
			return nil
		}
		k := id(v)
		if _, dup := m[k]; dup || k <= 0 {
			*err = fmt.Errorf("bad or duplicate id %d", k)
		}
		m[k] = v
	}
	return m
}

// Save writes the whole site as indented JSON with a stable order.
func (s *Sim) Save(w io.Writer) error {
	s.mu.RLock()
	d := s.d
	out := saved{
		Format: fileFormat, Config: d.Config, NextID: d.NextID,
		Categories: sortedValues(d.Categories), Courses: sortedValues(d.Courses), Users: sortedValues(d.Users),
		Cohorts: sortedValues(d.Cohorts), CohortMembers: sortedValues(d.CohortMembers), Instances: sortedValues(d.Instances),
		UEs: sortedValues(d.UEs), RAs: sortedValues(d.RAs), Groups: sortedValues(d.Groups), Members: sortedValues(d.Members),
		Grades: d.Grades, LastAccess: d.lastAccessRows(), Leases: sortedValues(d.Leases),
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", " ")
	err := enc.Encode(out) // under the lock: the maps are shared with later writes
	s.mu.RUnlock()
	return err
}

// Load reads a site written by Save. The clock is time.Now; add tokens with AddToken.
func Load(r io.Reader) (*Sim, error) {
	var in saved
	dec := json.NewDecoder(r)
	dec.DisallowUnknownFields()
	if err := dec.Decode(&in); err != nil {
		return nil, fmt.Errorf("moodlesim: %w", err)
	}
	if in.Format != 1 && in.Format != fileFormat {
		return nil, fmt.Errorf("moodlesim: file format %d, want 1 to %d", in.Format, fileFormat)
	}
	d := newDB()
	d.Config = in.Config
	if in.NextID != nil {
		d.NextID = in.NextID
	}
	var err error
	d.Categories = toMap(&err, in.Categories, func(v Category) int64 { return v.ID })
	d.Courses = toMap(&err, in.Courses, func(v Course) int64 { return v.ID })
	d.Users = toMap(&err, in.Users, func(v User) int64 { return v.ID })
	d.Cohorts = toMap(&err, in.Cohorts, func(v Cohort) int64 { return v.ID })
	d.CohortMembers = toMap(&err, in.CohortMembers, func(v CohortMember) int64 { return v.ID })
	d.Instances = toMap(&err, in.Instances, func(v Instance) int64 { return v.ID })
	d.UEs = toMap(&err, in.UEs, func(v UserEnrolment) int64 { return v.ID })
	d.RAs = toMap(&err, in.RAs, func(v RoleAssignment) int64 { return v.ID })
	d.Groups = toMap(&err, in.Groups, func(v Group) int64 { return v.ID })
	d.Members = toMap(&err, in.Members, func(v GroupMember) int64 { return v.ID })
	if err != nil {
		return nil, fmt.Errorf("moodlesim: %w", err)
	}
	if _, ok := d.Courses[SiteCourseID]; !ok {
		return nil, fmt.Errorf("moodlesim: no site course")
	}
	d.Grades = in.Grades
	for _, la := range in.LastAccess {
		d.setLastAccess(la.CourseID, la.UserID, la.TimeAccess)
	}
	for _, l := range in.Leases {
		d.Leases[l.Name] = l
	}
	// Ids handed out later must stay above every stored id.
	for table, ids := range map[string][]int64{
		"course_categories": keys(d.Categories), "course": keys(d.Courses), "user": keys(d.Users), "cohort": keys(d.Cohorts),
		"cohort_members": keys(d.CohortMembers), "enrol": keys(d.Instances), "user_enrolments": keys(d.UEs),
		"role_assignments": keys(d.RAs), "groups": keys(d.Groups), "groups_members": keys(d.Members),
	} {
		if len(ids) > 0 {
			d.reserve(table, slices.Max(ids))
		}
	}
	d.rebuildIndex()
	if len(d.ix.ue) != len(d.UEs) {
		return nil, fmt.Errorf("moodlesim: duplicate (enrolid, userid) in user_enrolments")
	}
	return newSim(d, time.Now), nil
}

func keys[T any](m map[int64]T) []int64 { return slices.Sorted(maps.Keys(m)) }

// lastAccessRows returns user_lastaccess ordered by course, then user.
func (d *db) lastAccessRows() []LastAccess {
	var out []LastAccess
	for courseID, users := range d.LastAccess {
		for userID, t := range users {
			out = append(out, LastAccess{courseID, userID, t})
		}
	}
	slices.SortFunc(out, func(a, b LastAccess) int {
		return cmp.Or(cmp.Compare(a.CourseID, b.CourseID), cmp.Compare(a.UserID, b.UserID))
	})
	return out
}
