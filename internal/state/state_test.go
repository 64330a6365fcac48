package state

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"unsafe"
)

func TestMethodKey(t *testing.T) {
	tests := []struct {
		m    Method
		want string
	}{
		{Method{Type: Manual, Name: "ignored"}, "manual"},
		{Method{Type: Database}, "database"},
		{Method{Type: Guest}, "guest"},
		{Method{Type: Cohort, Cohort: "L1-2026", Role: "student", Group: "not identity"}, "cohort:L1-2026:student"},
		{Method{Type: Meta, Course: "L1-TRONC"}, "meta:L1-TRONC"},
		{Method{Type: Self, Name: "Accès enseignants"}, "self:Accès enseignants"},
		{Method{Type: "muprog", ID: 42}, "muprog#42"},
	}
	for _, tt := range tests {
		if got := tt.m.Key(); got != tt.want {
			t.Errorf("%+v.Key() = %q, want %q", tt.m, got, tt.want)
		}
	}
}

func TestManagedFingerprintIgnoresReadOrder(t *testing.T) {
	a := Course{Shortname: "C", ID: 3,
		Methods:    []Method{{Type: Manual, ID: 1, Enabled: true}, {Type: Cohort, Cohort: "X", Role: "student", ID: 2}},
		Enrolments: []Enrolment{{Username: "b", Method: "manual", Roles: []string{"teacher", "student"}}, {Username: "a", Method: "manual"}},
		Groups:     []Group{{Name: "TP2"}, {Name: "TP1", Members: []Member{{Username: "b"}, {Username: "a"}}}},
	}
	b := Course{Shortname: "C", ID: 3,
		Methods:    []Method{a.Methods[1], a.Methods[0]},
		Enrolments: []Enrolment{{Username: "a", Method: "manual"}, {Username: "b", Method: "manual", Roles: []string{"student", "teacher"}}},
		Groups:     []Group{{Name: "TP1", Members: []Member{{Username: "a"}, {Username: "b"}}}, {Name: "TP2"}},
	}
	if a.ManagedFingerprint() != b.ManagedFingerprint() {
		t.Errorf("the same course read in another order has another fingerprint")
	}
	b.Enrolments[0].End = 1
	if a.ManagedFingerprint() == b.ManagedFingerprint() {
		t.Errorf("a changed end date did not change the fingerprint")
	}
}

func TestSnapshotNames(t *testing.T) {
	s := Snapshot{Courses: []Course{
		{Shortname: "B", Enrolments: []Enrolment{{Username: "u2"}, {Username: "u1"}}},
		{Shortname: "A", Groups: []Group{{Name: "G", Members: []Member{{Username: "u3"}, {Username: "u1"}}}}},
	}}
	if got := s.Usernames(); !slices.Equal(got, []string{"u1", "u2", "u3"}) {
		t.Errorf("Usernames = %v", got)
	}
	if got := s.Shortnames(); !slices.Equal(got, []string{"B", "A"}) {
		t.Errorf("Shortnames = %v", got)
	}
}

// Lookups find objects whether or not the course was normalised (sorted by key).
func TestLookupsSortedOrNot(t *testing.T) {
	c := Course{Shortname: "C",
		Methods: []Method{{Type: Self, Name: "b"}, {Type: Manual}, {Type: Cohort, Cohort: "K", Role: "student"}},
		Groups:  []Group{{Name: "TP2"}, {Name: "TP1"}, {Name: "A"}},
	}
	for _, normalised := range []bool{false, true} {
		if normalised {
			c.Normalize()
		}
		for _, key := range []string{"self:b", "manual", "cohort:K:student"} {
			if m, ok := c.Method(key); !ok || m.Key() != key {
				t.Errorf("normalised=%v: Method(%q) = %v, %v", normalised, key, m, ok)
			}
		}
		for _, name := range []string{"TP2", "TP1", "A"} {
			if g, ok := c.Group(name); !ok || g.Name != name {
				t.Errorf("normalised=%v: Group(%q) = %v, %v", normalised, name, g, ok)
			}
		}
		if _, ok := c.Method("guest"); ok {
			t.Errorf("normalised=%v: found a guest method", normalised)
		}
		if _, ok := c.Group("TP3"); ok {
			t.Errorf("normalised=%v: found group TP3", normalised)
		}
	}
}

func TestCompareEnrolmentKeysAgreesWithKey(t *testing.T) {
	parts := []string{"", "a", "ab", "a/b", "manual", "manual/x", "self:A", "self", "cohort:c:student", "/", "z"}
	for _, m1 := range parts {
		for _, u1 := range parts {
			for _, m2 := range parts {
				for _, u2 := range parts {
					a, b := Enrolment{Method: m1, Username: u1}, Enrolment{Method: m2, Username: u2}
					if got, want := CompareEnrolmentKeys(a, b), strings.Compare(a.Key(), b.Key()); got != want {
						t.Fatalf("CompareEnrolmentKeys(%q, %q) = %d, want %d", a.Key(), b.Key(), got, want)
					}
				}
			}
		}
	}
}

// ManagedFingerprint hashes what fingerprint hashes of the course's managed part, and
// leaves the course as it was, whether or not it is normalised.
func TestManagedFingerprint(t *testing.T) {
	course := func() Course {
		return Course{Shortname: "C1", ID: 7,
			Methods: []Method{{Type: Self, Role: "student"}, {Type: Manual}},
			Enrolments: []Enrolment{
				{Username: "zed", Method: "manual", Roles: []string{"teacher", "student", "teacher"}},
				{Username: "amy", Method: "manual", Roles: []string{"student"}},
				{Username: "bob", Method: "self", Roles: []string{"student"}},
			},
			Groups: []Group{
				{Name: "B", Members: []Member{{Username: "zed"}, {Username: "amy", Component: "enrol_cohort", ItemID: 3}}},
				{Name: "A", Members: []Member{{Username: "bob", Component: "enrol_meta"}}},
			},
		}
	}
	// What ManagedFingerprint hashes, built by hand: manual enrolments and memberships.
	managed := Course{Shortname: "C1", ID: 7,
		Methods: []Method{{Type: Self, Role: "student"}, {Type: Manual}},
		Enrolments: []Enrolment{
			{Username: "zed", Method: "manual", Roles: []string{"teacher", "student", "teacher"}},
			{Username: "amy", Method: "manual", Roles: []string{"student"}},
		},
		Groups: []Group{{Name: "B", Members: []Member{{Username: "zed"}}}, {Name: "A"}},
	}
	for _, normalised := range []bool{false, true} {
		c, want := course(), course()
		if normalised {
			c.Normalize()
			want.Normalize()
		}
		if got, hashed := c.ManagedFingerprint(), fingerprint(managed); got != hashed {
			t.Errorf("normalised %v: ManagedFingerprint %s, want %s", normalised, got, hashed)
		}
		if fingerprint(c) != fingerprint(want) || !slices.Equal(c.Enrolments[0].Roles, want.Enrolments[0].Roles) ||
			c.Enrolments[0].Username != want.Enrolments[0].Username || c.Groups[0].Name != want.Groups[0].Name {
			t.Errorf("normalised %v: ManagedFingerprint changed the course: %+v", normalised, c)
		}
	}
}

// fingerprint hashes the JSON of the whole course, normalised, leaving c as it is:
// the reference ManagedFingerprint is checked against (saved plans hold such hashes).
func fingerprint(c Course) string {
	c = c.clone()
	c.Normalize()
	b, err := json.Marshal(c)
	if err != nil {
		panic(err)
	}
	sum := sha256.Sum256(b)
	return "sha256:" + hex.EncodeToString(sum[:16])
}

// clone copies the course's slices so that sorting the copy leaves c alone.
func (c Course) clone() Course {
	c.Methods = slices.Clone(c.Methods)
	c.Enrolments = slices.Clone(c.Enrolments)
	for i := range c.Enrolments {
		c.Enrolments[i].Roles = slices.Clone(c.Enrolments[i].Roles)
	}
	c.Groups = slices.Clone(c.Groups)
	for i := range c.Groups {
		c.Groups[i].Members = slices.Clone(c.Groups[i].Members)
	}
	return c
}

// Usernames are copies: a spec's usernames share its file's bytes, which the list,
// kept for as long as a plan is, would otherwise hold.
func TestUsernamesHoldNoSpecBytes(t *testing.T) {
	file := "users: u1 u2 u1"
	s := Snapshot{Courses: []Course{{Enrolments: []Enrolment{{Username: file[7:9]}, {Username: file[10:12]}},
		Groups: []Group{{Members: []Member{{Username: file[13:15]}}}}}}}
	got := s.Usernames()
	if !slices.Equal(got, []string{"u1", "u2"}) {
		t.Fatalf("Usernames = %v", got)
	}
	lo, hi := uintptr(unsafe.Pointer(unsafe.StringData(file))), uintptr(unsafe.Pointer(unsafe.StringData(file)))+uintptr(len(file))
	for _, u := range got {
		if p := uintptr(unsafe.Pointer(unsafe.StringData(u))); p >= lo && p < hi {
			t.Errorf("%q shares the spec's bytes", u)
		}
	}
}
