package moodlesim

import (
	"strconv"
	"unicode/utf8"
)

// appendCourseStates writes get_course_state's answer as phpJSON would, field by
// field: it is the largest answer enrolctl asks for (hundreds of courses per call),
// and reflection-based encoding was most of its cost. TestCourseStateJSON checks it
// against the generic encoder.
func appendCourseStates(b []byte, states []courseState) []byte {
	if states == nil {
		return append(b, "null"...)
	}
	b = append(b, '[')
	for i, cs := range states {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendCourseState(b, cs)
	}
	return append(b, ']')
}

func appendCourseState(b []byte, cs courseState) []byte {
	b = append(b, `{"courseid":`...)
	b = strconv.AppendInt(b, cs.CourseID, 10)
	b = append(b, `,"shortname":`...)
	b = appendPHPString(b, cs.Shortname)
	b = append(b, `,"instances":`...)
	b = appendList(b, cs.Instances, func(b []byte, e stateInstance) []byte {
		b = appendInt(b, `{"id":`, e.ID)
		b = appendStr(b, `,"enrol":`, e.Enrol)
		b = appendInt(b, `,"status":`, int64(e.Status))
		b = appendStr(b, `,"name":`, e.Name)
		b = appendInt(b, `,"sortorder":`, int64(e.SortOrder))
		b = appendInt(b, `,"roleid":`, e.RoleID)
		b = appendStr(b, `,"roleshortname":`, e.RoleShortname)
		b = appendInt(b, `,"cohortid":`, e.CohortID)
		b = appendStr(b, `,"cohortidnumber":`, e.CohortIDNumber)
		b = appendInt(b, `,"linkedcourseid":`, e.LinkedCourseID)
		b = appendStr(b, `,"linkedcourseshortname":`, e.LinkedCourseShortname)
		b = appendInt(b, `,"groupid":`, e.GroupID)
		b = appendStr(b, `,"groupname":`, e.GroupName)
		b = appendInt(b, `,"maxenrolled":`, e.MaxEnrolled)
		b = appendInt(b, `,"enrolperiod":`, e.EnrolPeriod)
		return append(b, '}')
	})
	b = append(b, `,"enrolments":`...)
	b = appendList(b, cs.Enrolments, func(b []byte, e stateEnrolment) []byte {
		b = appendInt(b, `{"id":`, e.ID)
		b = appendInt(b, `,"instanceid":`, e.InstanceID)
		b = appendInt(b, `,"userid":`, e.UserID)
		b = appendStr(b, `,"username":`, e.Username)
		b = appendInt(b, `,"status":`, int64(e.Status))
		b = appendInt(b, `,"timestart":`, e.TimeStart)
		b = appendInt(b, `,"timeend":`, e.TimeEnd)
		return append(b, '}')
	})
	b = append(b, `,"roles":`...)
	b = appendList(b, cs.Roles, func(b []byte, r stateRole) []byte {
		b = appendInt(b, `{"userid":`, r.UserID)
		b = appendInt(b, `,"roleid":`, r.RoleID)
		b = appendStr(b, `,"roleshortname":`, r.RoleShortname)
		b = appendStr(b, `,"component":`, r.Component)
		b = appendInt(b, `,"itemid":`, r.ItemID)
		return append(b, '}')
	})
	b = append(b, `,"groups":`...)
	b = appendList(b, cs.Groups, func(b []byte, g stateGroup) []byte {
		b = appendInt(b, `{"id":`, g.ID)
		b = appendStr(b, `,"name":`, g.Name)
		b = appendStr(b, `,"idnumber":`, g.IDNumber)
		return append(b, '}')
	})
	b = append(b, `,"members":`...)
	b = appendList(b, cs.Members, func(b []byte, m stateMember) []byte {
		b = appendInt(b, `{"groupid":`, m.GroupID)
		b = appendInt(b, `,"userid":`, m.UserID)
		b = appendStr(b, `,"username":`, m.Username)
		b = appendStr(b, `,"component":`, m.Component)
		b = appendInt(b, `,"itemid":`, m.ItemID)
		return append(b, '}')
	})
	b = append(b, `,"users":`...)
	b = appendList(b, cs.Users, func(b []byte, u stateUser) []byte {
		b = appendInt(b, `{"id":`, u.ID)
		b = appendStr(b, `,"username":`, u.Username)
		b = appendStr(b, `,"firstname":`, u.Firstname)
		b = appendStr(b, `,"lastname":`, u.Lastname)
		b = appendStr(b, `,"email":`, u.Email)
		b = appendStr(b, `,"idnumber":`, u.IDNumber)
		b = appendInt(b, `,"lastcourseaccess":`, u.LastCourseAccess)
		b = appendInt(b, `,"suspended":`, int64(u.Suspended))
		return append(b, '}')
	})
	return append(b, '}')
}

func appendList[T any](b []byte, list []T, one func([]byte, T) []byte) []byte {
	if list == nil {
		return append(b, "null"...)
	}
	b = append(b, '[')
	for i, v := range list {
		if i > 0 {
			b = append(b, ',')
		}
		b = one(b, v)
	}
	return append(b, ']')
}

func appendInt(b []byte, key string, v int64) []byte {
	return strconv.AppendInt(append(b, key...), v, 10)
}

func appendStr(b []byte, key, v string) []byte { return appendPHPString(append(b, key...), v) }

// appendPHPString quotes s as json_encode does: '"', '\\' and '/' escaped, \b \f \n
// \r \t, other control characters and every non-ASCII character as \uXXXX (invalid
// UTF-8 as \ufffd, as encoding/json replaces it).
func appendPHPString(b []byte, s string) []byte {
	b = append(b, '"')
	for i := 0; i < len(s); {
		c := s[i]
		if c >= 0x20 && c < utf8.RuneSelf && c != '"' && c != '\\' && c != '/' {
			b = append(b, c)
			i++
			continue
		}
		if c < utf8.RuneSelf {
			switch c {
			case '"', '\\', '/':
				b = append(b, '\\', c)
			case '\b':
				b = append(b, '\\', 'b')
			case '\f':
				b = append(b, '\\', 'f')
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = appendU(b, rune(c))
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r > 0xFFFF {
			r -= 0x10000
			b = appendU(appendU(b, 0xD800+(r>>10)), 0xDC00+(r&0x3FF))
		} else {
			b = appendU(b, r)
		}
		i += size
	}
	return append(b, '"')
}
