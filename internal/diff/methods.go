package diff

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/enrolctl/enrolctl/internal/state"
)

func (cp *coursePlanner) planMethods() {
	course := cp.d.Shortname
	declared := map[string]bool{}
	methods := slices.Clone(cp.d.Methods)
	slices.SortStableFunc(methods, func(a, b state.Method) int { return strings.Compare(a.Key(), b.Key()) })
	for _, m := range methods {
		if m.Type == state.Manual && !m.Absent {
			cp.manualDeclare = true
		}
	}
	if !cp.manualDeclare && len(cp.d.Enrolments) > 0 {
		// Manual enrolments need the manual method: manage it implicitly, create it
		// enabled if missing, and never compare or prune it.
		cp.manualDeclare = true
		declared[string(state.Manual)] = true
		if _, ok := cp.liveMethods[string(state.Manual)]; !ok {
			m := state.Method{Type: state.Manual, Enabled: true}
			cp.add(Change{
				Address: state.MethodAddress(course, m.Key()), Kind: KindMethod, Action: Create,
				Reason: reason(ReasonImpliedManual, ""), Fields: methodFields(state.Method{}, m, true),
				Method: &m,
			})
		}
	}

	for _, m := range methods {
		key := m.Key()
		addr := state.MethodAddress(course, key)
		if declared[key] {
			continue // a duplicate the spec loader should have refused; the first one wins
		}
		declared[key] = true
		live, exists := cp.liveMethods[key]

		if m.Absent {
			cp.planAbsent(m, live, exists)
			continue
		}
		if k, known := state.KindOf(m.Type); !known || k.CheckOnly {
			continue // Check refused the first; the second is owned by the sync: never created, updated, deleted or compared
		}
		if !exists {
			mm := m
			cp.add(Change{
				Address: addr, Kind: KindMethod, Action: Create,
				Fields: methodFields(state.Method{}, m, true), Method: &mm, Source: m.Source,
			})
			continue
		}
		fields := methodFields(live, m, false)
		if len(fields) == 0 {
			continue
		}
		mm := m
		mm.ID = live.ID
		c := Change{Address: addr, Kind: KindMethod, Action: Update, Fields: fields, Method: &mm, Source: m.Source}
		if live.Enabled && !m.Enabled {
			c.Removes = &Removal{Effect: EffectMethodDisable} // counted by fillRemovals
		}
		cp.add(c)
	}

	// Live methods nobody declares.
	for _, key := range slices.Sorted(maps.Keys(cp.liveMethods)) {
		if declared[key] {
			continue
		}
		m := cp.liveMethods[key]
		addr := state.MethodAddress(course, key)
		n := len(cp.liveEnrolByM[key])
		// methods_prune never takes the manual method (and every manual enrolment with
		// it): that needs the method declared absent.
		if k, known := state.KindOf(m.Type); cp.d.Options.MethodsPrune && known && !k.CheckOnly && m.Type != state.Manual {
			mm := m
			cp.deletedMethods[key] = true
			cp.add(Change{
				Address: addr, Kind: KindMethod, Action: Delete, Method: &mm,
				Reason: reason(ReasonMethodsPrune, ""), Removes: &Removal{Effect: EffectMethodDelete},
			})
			continue
		}
		if cp.methodDrifts(m) {
			cp.drift = append(cp.drift, Drift{
				Address: addr, Course: course, Kind: KindMethod, Code: DriftUndeclaredMethod, Method: &m, Enrolments: n,
			})
			continue
		}
		cp.unmanaged = append(cp.unmanaged, Unmanaged{
			Address: addr, Course: course, Kind: KindMethod, Method: &m, Enrolments: n,
		})
	}
	// Further instances with an identity Moodle already has (two manual instances, two
	// equal cohort syncs) are reported, never touched.
	first := map[string]int64{}
	for _, m := range cp.o.Methods {
		if id, dup := first[m.Key()]; dup && id != m.ID {
			dup := m
			cp.unmanaged = append(cp.unmanaged, Unmanaged{
				Address: state.MethodAddress(course, fmt.Sprintf("%s#%d", m.Key(), m.ID)), Course: course,
				Kind: KindMethod, Method: &dup, Duplicate: true,
			})
			continue
		}
		first[m.Key()] = m.ID
	}
}

// methodFields lists the managed fields of a method that differ between old and new;
// with create set, every managed field of new (Old left nil).
func methodFields(old, new state.Method, create bool) []FieldChange {
	var out []FieldChange
	field := func(f Field, o, n *Value, same bool) {
		if create {
			out = append(out, created(f, n))
		} else if !same {
			out = append(out, changed(f, o, n))
		}
	}
	k, _ := state.KindOf(new.Type)
	for _, a := range k.Settings {
		field(Field(a), attrValue(old, a), attrValue(new, a), old.Same(a, new))
	}
	return out
}

// attrValue is a method setting as a field value.
func attrValue(m state.Method, a state.Attr) *Value {
	switch a {
	case state.AttrEnabled:
		return boolValue(m.Enabled)
	case state.AttrMaxUsers:
		return intValue(int64(m.MaxUsers))
	case state.AttrRole:
		return roleValue(m.Role)
	}
	return textValue(m.Text(a))
}
