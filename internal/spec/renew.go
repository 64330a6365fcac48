package spec

import (
	"fmt"
	"slices"
	"strings"

	"github.com/enrolctl/enrolctl/internal/diag"
	"github.com/enrolctl/enrolctl/internal/state"
	"github.com/enrolctl/enrolctl/internal/tree"
)

// renewDecl is a policy's renew section: which live manual enrolments of the selected
// courses it renews, and how.
type renewDecl struct {
	pos        diag.Pos
	role       tree.Str
	status     tree.Str
	method     tree.Str
	until      date
	reactivate tree.Bool
}

var renewStatuses = []string{"active", "suspended", "any"}

func (d *decoder) renew(n *tree.Node) *renewDecl {
	var oBuf tree.Obj
	o := d.readObject(&oBuf, n, "renew", "renew")
	if o == nil {
		return nil
	}
	r := &renewDecl{pos: n.Pos}
	r.role = o.String("role")
	d.checkRole(r.role)
	r.status = o.String("status")
	if !tree.OneOf(r.status, "status", renewStatuses, d.ds) {
		r.status = tree.Str{}
	}
	r.method = o.String("method")
	if r.method.Set && r.method.V != string(state.Manual) {
		o.Errorf(r.method.Pos, "renew: method %q: renew acts on manual enrolments only; the enrolments of %s belong to its sync (convert them with enrolctl import moodle --as-manual)", r.method.V, r.method.V)
	}
	if f := o.Get("until"); f == nil {
		o.Errorf(n.Pos, "renew: missing required field \"until\": the new end date (YYYY-MM-DD or never)")
	}
	r.until = readDate(o.String("until"), "until", true, d.loc, d.ds)
	r.reactivate = o.Bool("reactivate")
	o.Done()
	return r
}

// renewals turns the renew sections of the policies selecting a course into the
// course's Renewals. Two policies renewing the same course is an error: which end
// would win is not something to guess.
func (r *resolver) renewals(sn string, policies []*Policy) []state.Renewal {
	var out []state.Renewal
	var first *Policy
	for _, p := range policies {
		if p.renew == nil || !p.renew.until.Set {
			continue
		}
		if first != nil {
			r.errorf(p.renew.pos, "course %q is renewed by two policies (%q here and %q at %s); keep one renew per course", sn, p.Name, first.Name, first.renew.pos)
			continue
		}
		first = p
		status := p.renew.status.V
		if status == "any" {
			status = ""
		}
		out = append(out, state.Renewal{
			Policy: p.Name, Role: p.renew.role.V, Status: status, End: p.renew.until.Unix,
			Reactivate: p.renew.reactivate.V, Source: source(p.renew.pos),
		})
	}
	return out
}

// ineffectiveDefaults warns about policy manual defaults that change nothing in some
// selected courses: until, from and role apply to the users a course spec lists, so in
// a course without listed users they are silently without effect.
func (r *resolver) ineffectiveDefaults(p *Policy, selected []string, specs map[string]*CourseSpec) {
	if p.manual == nil {
		return
	}
	var fields []diag.Pos
	var names []string
	for _, f := range []struct {
		name string
		set  bool
		pos  diag.Pos
	}{{"until", p.manual.until.Set, p.manual.until.Pos}, {"from", p.manual.from.Set, p.manual.from.Pos}, {"role", p.manual.role.Set, p.manual.role.Pos}} {
		if f.set {
			fields = append(fields, f.pos)
			names = append(names, f.name)
		}
	}
	if len(fields) == 0 {
		return
	}
	var bare []string
	for _, sn := range selected {
		if s := specs[sn]; s == nil || s.manual == nil || len(s.manual.users) == 0 {
			bare = append(bare, sn)
		}
	}
	if len(bare) == 0 {
		return
	}
	slices.Sort(bare)
	shown := bare[:min(len(bare), 3)]
	more := ""
	if len(bare) > 3 {
		more = fmt.Sprintf(" and %d more", len(bare)-3)
	}
	r.warnf(fields[0], "manual.%s: defaults for the users a course spec lists; %d selected course(s) list none (%s%s), where this changes nothing (to renew their live manual enrolments, add a renew section)",
		joinNames(names), len(bare), strings.Join(shown, ", "), more)
}

func joinNames(names []string) string {
	out := names[0]
	for _, n := range names[1:] {
		out += ", manual." + n
	}
	return out
}
