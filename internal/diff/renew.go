package diff

import (
	"github.com/enrolctl/enrolctl/internal/state"
)

// withRenewals adds to the desired enrolments the live manual enrolments that the
// course's Renewals select and the specs do not list: each keeps its roles (none are
// declared, so the live ones stay) and start, gets the renewal's end, and is
// reactivated when the renewal says so. A user the specs list is never renewed: the
// course spec is the more specific source.
func (cp *coursePlanner) withRenewals(wanted []state.Enrolment) []state.Enrolment {
	if len(cp.d.Renewals) == 0 {
		return wanted
	}
	listed := make(map[string]bool, len(wanted))
	for _, e := range wanted {
		listed[e.Username] = true
	}
	cp.renewedBy = map[string]string{}
	for _, e := range cp.liveEnrolByM[string(state.Manual)] {
		if listed[e.Username] {
			continue
		}
		for _, r := range cp.d.Renewals {
			if !r.Selects(*e) {
				continue
			}
			wanted = append(wanted, state.Enrolment{
				Username: e.Username, Method: string(state.Manual), End: r.End,
				Suspended: e.Suspended && !r.Reactivate, KeepStart: true, Source: r.Source,
			})
			listed[e.Username] = true
			cp.renewedBy[e.Username] = r.Policy
			break
		}
	}
	return wanted
}

// labelRenewals says on each renewed enrolment's change which policy renewed it.
func (cp *coursePlanner) labelRenewals() {
	for i := range cp.changes {
		c := &cp.changes[i]
		if c.Kind != KindEnrolment || c.Enrolment == nil {
			continue
		}
		policy, ok := cp.renewedBy[c.Enrolment.Username]
		if !ok {
			continue
		}
		if c.Reason == nil {
			c.Reason = reason(ReasonPolicyRenewal, policy)
		} else {
			r := *c.Reason
			r.RenewedBy = policy
			c.Reason = &r
		}
	}
}
