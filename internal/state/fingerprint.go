package state

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"slices"
	"strconv"
	"strings"
	"sync"
)

// ManagedFingerprint hashes only what enrolctl manages in the course: its methods,
// manual enrolments, groups and manual group memberships. Enrolments and memberships
// owned by syncs (database, cohort, meta) and self-enrolments move on their own every
// night; a saved plan must not go stale because of them (apply checks separately that
// its removals would not take more than planned).
//
// The hash is of the JSON encoding/json gives the normalised managed course (saved
// plans hold such hashes): appendManaged writes those bytes itself, straight from the
// course when it is normalised already, as every course read from Moodle is; a
// site-wide plan fingerprints every course it changes.
func (c Course) ManagedFingerprint() string {
	if !c.managedNormalized() {
		c = c.managedCopy()
		c.Normalize()
	}
	buf := fingerprintBufs.Get().(*[]byte)
	b := appendManaged((*buf)[:0], &c)
	sum := sha256.Sum256(b)
	*buf = b
	fingerprintBufs.Put(buf)
	return "sha256:" + hex.EncodeToString(sum[:16])
}

var fingerprintBufs = sync.Pool{New: func() any { return new([]byte) }}

// managedNormalized reports whether the managed part of c is in the order Normalize
// gives it: methods by key, manual enrolments by username, groups by name, manual
// members by username (roles need not be: appendEnrolment sorts them as it writes).
func (c *Course) managedNormalized() bool {
	for i := 1; i < len(c.Methods); i++ {
		if strings.Compare(c.Methods[i-1].Key(), c.Methods[i].Key()) > 0 {
			return false
		}
	}
	prev := ""
	first := true
	for _, e := range c.Enrolments {
		if e.Method != string(Manual) {
			continue
		}
		if !first && e.Username < prev {
			return false
		}
		prev, first = e.Username, false
	}
	for i, g := range c.Groups {
		if i > 0 && c.Groups[i-1].Name > g.Name {
			return false
		}
		first = true
		for _, m := range g.Members {
			if m.Component != "" {
				continue
			}
			if !first && m.Username < prev {
				return false
			}
			prev, first = m.Username, false
		}
	}
	return true
}

// managedCopy is the managed part of c in slices of its own, for Normalize to sort.
// Nil stays nil: the hash is of the JSON, where nil and empty differ.
func (c Course) managedCopy() Course {
	m := Course{Shortname: c.Shortname, ID: c.ID, Methods: slices.Clone(c.Methods)}
	for _, e := range c.Enrolments {
		if e.Method == string(Manual) {
			e.Roles = slices.Clone(e.Roles)
			m.Enrolments = append(m.Enrolments, e)
		}
	}
	if len(c.Groups) > 0 {
		m.Groups = make([]Group, 0, len(c.Groups))
	}
	for _, g := range c.Groups {
		mg := Group{Name: g.Name, ID: g.ID}
		for _, mem := range g.Members {
			if mem.Component == "" {
				mg.Members = append(mg.Members, mem)
			}
		}
		m.Groups = append(m.Groups, mg)
	}
	return m
}

// sortedUnique reports whether Normalize would leave roles as they are.
func sortedUnique(roles []string) bool {
	for i := 1; i < len(roles); i++ {
		if roles[i-1] >= roles[i] {
			return false
		}
	}
	return true
}

// appendManaged appends what json.Marshal gives for the managed part of c (see
// managedCopy), field by field in the struct tags' order, omitting what they omit.
func appendManaged(b []byte, c *Course) []byte {
	b = append(b, `{"shortname":`...)
	b = appendString(b, c.Shortname)
	if len(c.Methods) > 0 {
		b = append(b, `,"methods":[`...)
		for i := range c.Methods {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendMethod(b, &c.Methods[i])
		}
		b = append(b, ']')
	}
	n := 0
	for i := range c.Enrolments {
		e := &c.Enrolments[i]
		if e.Method != string(Manual) {
			continue
		}
		if n == 0 {
			b = append(b, `,"enrolments":[`...)
		} else {
			b = append(b, ',')
		}
		n++
		b = appendEnrolment(b, e)
	}
	if n > 0 {
		b = append(b, ']')
	}
	if len(c.Groups) > 0 {
		b = append(b, `,"groups":[`...)
		for i := range c.Groups {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendGroup(b, &c.Groups[i])
		}
		b = append(b, ']')
	}
	b = appendInt(b, `,"id":`, c.ID)
	return append(b, '}')
}

func appendMethod(b []byte, m *Method) []byte {
	b = append(b, `{"type":`...)
	b = appendString(b, string(m.Type))
	b = appendText(b, `,"name":`, m.Name)
	b = appendText(b, `,"cohort":`, m.Cohort)
	b = appendText(b, `,"role":`, m.Role)
	b = appendText(b, `,"course":`, m.Course)
	b = appendText(b, `,"group":`, m.Group)
	b = append(b, `,"enabled":`...)
	b = strconv.AppendBool(b, m.Enabled)
	b = appendInt(b, `,"max_users":`, int64(m.MaxUsers))
	if m.Absent {
		b = append(b, `,"absent":true`...)
	}
	b = appendInt(b, `,"id":`, m.ID)
	return append(b, '}')
}

// appendEnrolment writes a manual enrolment, its roles as Normalize leaves them.
func appendEnrolment(b []byte, e *Enrolment) []byte {
	b = append(b, `{"username":`...)
	b = appendString(b, e.Username)
	b = append(b, `,"method":`...)
	b = appendString(b, e.Method)
	roles := e.Roles
	if !sortedUnique(roles) {
		roles = slices.Compact(slices.Sorted(slices.Values(roles)))
	}
	if len(roles) > 0 {
		b = append(b, `,"roles":[`...)
		for i, r := range roles {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendString(b, r)
		}
		b = append(b, ']')
	}
	b = appendInt(b, `,"start":`, e.Start)
	b = appendInt(b, `,"end":`, e.End)
	if e.Suspended {
		b = append(b, `,"suspended":true`...)
	}
	if e.KeepStart {
		b = append(b, `,"keep_start":true`...)
	}
	b = appendInt(b, `,"user_id":`, e.UserID)
	return append(b, '}')
}

// appendGroup writes a group's name, manual members and id: the managed part holds
// no more of it.
func appendGroup(b []byte, g *Group) []byte {
	b = append(b, `{"name":`...)
	b = appendString(b, g.Name)
	n := 0
	for i := range g.Members {
		m := &g.Members[i]
		if m.Component != "" {
			continue
		}
		if n == 0 {
			b = append(b, `,"members":[`...)
		} else {
			b = append(b, ',')
		}
		n++
		b = append(b, `{"username":`...)
		b = appendString(b, m.Username)
		b = appendInt(b, `,"item_id":`, m.ItemID)
		b = append(b, '}')
	}
	if n > 0 {
		b = append(b, ']')
	}
	b = appendInt(b, `,"id":`, g.ID)
	return append(b, '}')
}

// appendText writes an omitempty string field.
func appendText(b []byte, key, s string) []byte {
	if s == "" {
		return b
	}
	return appendString(append(b, key...), s)
}

// appendInt writes an omitempty integer field.
func appendInt(b []byte, key string, n int64) []byte {
	if n == 0 {
		return b
	}
	return strconv.AppendInt(append(b, key...), n, 10)
}

// appendString writes s as encoding/json does: printable ASCII without a quote,
// backslash or HTML character as it is, anything else by encoding/json itself.
func appendString(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= 0x80 || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
			q, err := json.Marshal(s)
			if err != nil {
				panic(err) // a string always encodes
			}
			return append(b, q...)
		}
	}
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"')
}
