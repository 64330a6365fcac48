package diff

import (
	"maps"
	"slices"

	"github.com/enrolctl/enrolctl/internal/state"
)

// planGroups creates declared groups and the groups desired methods put members in.
// Groups are never deleted or renamed; undeclared live groups are not even reported.
func (cp *coursePlanner) planGroups() {
	course := cp.d.Shortname
	type need struct {
		src    state.Source
		reason *Reason
	}
	needed := map[string]need{}
	for _, g := range cp.d.Groups {
		if _, ok := needed[g.Name]; !ok && g.Name != "" {
			needed[g.Name] = need{src: g.Source}
		}
	}
	for _, m := range cp.d.Methods {
		if k, _ := state.KindOf(m.Type); k.Has(state.AttrGroup) && m.Group != "" && !m.Absent {
			if _, ok := needed[m.Group]; !ok {
				needed[m.Group] = need{src: m.Source, reason: reason(ReasonGroupOfMethod, m.Key())}
			}
		}
	}
	for _, name := range slices.Sorted(maps.Keys(needed)) {
		if _, ok := cp.liveGroups[name]; ok {
			continue
		}
		n := needed[name]
		cp.add(Change{
			Address: state.GroupAddress(course, name), Kind: KindGroup, Action: Create,
			Reason: n.reason, Group: &state.Group{Name: name}, Source: n.src,
		})
	}
}
