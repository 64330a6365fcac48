package apply

import (
	"slices"

	"github.com/enrolctl/enrolctl/internal/diff"
	"github.com/enrolctl/enrolctl/internal/state"
)

// satisfied reports whether the live course already shows the effect of change c, so
// that after an unknown outcome only what did not land is sent again.
func satisfied(c diff.Change, live state.Course) bool {
	switch c.Kind {
	case diff.KindGroup:
		_, ok := live.Group(c.Group.Name)
		return ok == (c.Action != diff.Delete)
	case diff.KindMethod:
		m, ok := live.Method(c.Method.Key())
		switch c.Action {
		case diff.Delete:
			return !ok
		case diff.Create, diff.Update:
			return ok && sameSettings(*c.Method, m)
		}
	case diff.KindEnrolment:
		var live0 *state.Enrolment
		for i, e := range live.Enrolments {
			if e.Method == c.Enrolment.Method && e.Username == c.Enrolment.Username {
				live0 = &live.Enrolments[i]
			}
		}
		if c.Action == diff.Delete {
			return live0 == nil
		}
		want := c.Enrolment
		return live0 != nil && live0.Start == want.Start && live0.End == want.End && live0.Suspended == want.Suspended &&
			(len(want.Roles) == 0 || slices.Equal(live0.Roles, want.Roles))
	case diff.KindMember:
		g, ok := live.Group(c.GroupName)
		member := ok && slices.ContainsFunc(g.Members, func(m state.Member) bool { return m.Username == c.Member.Username })
		return member == (c.Action == diff.Create)
	}
	return false
}

// sameSettings compares what apply sets on a method.
func sameSettings(want, live state.Method) bool {
	if want.Enabled != live.Enabled {
		return false
	}
	k, _ := state.KindOf(want.Type)
	return !slices.ContainsFunc(k.Settings, func(a state.Attr) bool { return !want.Same(a, live) })
}
