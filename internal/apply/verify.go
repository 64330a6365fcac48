package apply

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/enrolctl/enrolctl/internal/diff"
	"github.com/enrolctl/enrolctl/internal/state"
)

// A saved plan grants nothing by itself: its file may have been edited between review
// and apply (a removal's accounting deleted, an update turned into a delete, a user
// swapped for admin). ValidatePlan checks the whole file before anything is read from
// Moodle; VerifySaved then accepts only the changes that the specs checked out here
// (bound to the plan by its digest) produce against the live state, and returns those changes as computed now,
// so that guards and removal accounting never come from the file.

// InvalidPlanError lists what is wrong with a plan file.
type InvalidPlanError struct{ Problems []string }

func (e *InvalidPlanError) Error() string {
	const show = 10
	msg := "the plan file is not a valid enrolctl plan; nothing was applied:\n  " + strings.Join(e.Problems[:min(show, len(e.Problems))], "\n  ")
	if n := len(e.Problems) - show; n > 0 {
		msg += fmt.Sprintf("\n  and %d more", n)
	}
	return msg
}

var knownKinds = []diff.Kind{diff.KindGroup, diff.KindMethod, diff.KindEnrolment, diff.KindMember}

// ValidatePlan checks the shape of every change of a saved plan: a known kind and
// action, the object its kind needs, an address in its course, a fingerprint for each
// course it changes. It never panics, whatever the file held.
func ValidatePlan(p diff.Plan) error {
	var probs []string
	bad := func(i int, c diff.Change, format string, args ...any) {
		probs = append(probs, fmt.Sprintf("change %d (%s): %s", i+1, c.Address, fmt.Sprintf(format, args...)))
	}
	for i, c := range p.Changes {
		switch {
		case c.Course == "":
			bad(i, c, "no course")
			continue
		case !slices.Contains(knownKinds, c.Kind):
			bad(i, c, "unknown kind %q", c.Kind)
			continue
		case c.Action != diff.Create && c.Action != diff.Update && c.Action != diff.Delete:
			bad(i, c, "unknown action %q", c.Action)
			continue
		case !strings.HasPrefix(c.Address, "course/"+c.Course+"/"):
			bad(i, c, "the address is not in course %s", c.Course)
		}
		objects := 0
		for _, set := range []bool{c.Method != nil, c.Enrolment != nil, c.Group != nil, c.Member != nil} {
			if set {
				objects++
			}
		}
		var has bool
		switch c.Kind {
		case diff.KindGroup:
			has = c.Group != nil
		case diff.KindMethod:
			has = c.Method != nil
		case diff.KindEnrolment:
			has = c.Enrolment != nil
		case diff.KindMember:
			has = c.Member != nil && c.GroupName != ""
		}
		if !has || objects != 1 {
			bad(i, c, "a %s change needs its %s, and nothing else", c.Kind, c.Kind)
		}
	}
	for _, course := range p.Courses() {
		if _, ok := p.Fingerprints[course]; !ok {
			probs = append(probs, fmt.Sprintf("course %s: no fingerprint (enrolctl plan -out records one for every course a plan changes)", course))
		}
	}
	if len(probs) > 0 {
		return &InvalidPlanError{Problems: probs}
	}
	return nil
}

// ForgedChangeError lists the changes of a saved plan that the specs checked out here
// do not produce.
type ForgedChangeError struct {
	Changes []string
}

func (e *ForgedChangeError) Error() string {
	const show = 10
	msg := fmt.Sprintf("%d change(s) of the plan file are not what the specs produce here against the site now; the file was altered or made from other specs, and nothing was applied. Plan again and review the new plan:\n  %s",
		len(e.Changes), strings.Join(e.Changes[:min(show, len(e.Changes))], "\n  "))
	if n := len(e.Changes) - show; n > 0 {
		msg += fmt.Sprintf("\n  and %d more", n)
	}
	return msg
}

// VerifySaved checks a saved plan against fresh, the plan that the specs checked out
// here produce against the live state now (with Protected from those specs).
// Every saved change must be one of fresh's, in kind, action, address and object; a
// saved change fresh lacks is accepted only when live already shows it (a sync made it
// meanwhile), and is then dropped. The plan returned holds fresh's version of each
// saved change (its removal accounting, its object), fresh's protected courses, and the
// saved plan's fingerprints and provenance, for CheckStale and the audit.
func VerifySaved(saved, fresh diff.Plan, live state.Snapshot) (diff.Plan, error) {
	if err := ValidatePlan(saved); err != nil {
		return diff.Plan{}, err
	}
	byAddr := make(map[string]diff.Change, len(fresh.Changes))
	for _, c := range fresh.Changes {
		byAddr[c.Address+" "+string(c.Action)] = c
	}
	out := saved
	out.Changes = make([]diff.Change, 0, len(saved.Changes))
	out.Protected = slices.Clone(fresh.Protected)
	var forged []string
	for _, c := range saved.Changes {
		f, ok := byAddr[c.Address+" "+string(c.Action)]
		if ok && sameChange(c, f) {
			out.Changes = append(out.Changes, f)
			continue
		}
		if !ok {
			if lc, found := live.Course(c.Course); found && satisfied(c, *lc) {
				continue // what a sync did meanwhile; nothing to write
			}
		}
		what := "the specs do not produce it"
		if ok {
			what = "the specs produce a different " + string(c.Kind) + " there"
		} else if other := otherAction(fresh, c.Address); other != "" {
			what = fmt.Sprintf("the specs produce %s %s, not %s", article(other), other, c.Action)
		}
		forged = append(forged, fmt.Sprintf("%s %s: %s", c.Action, c.Address, what))
	}
	if len(forged) > 0 {
		return diff.Plan{}, &ForgedChangeError{Changes: forged}
	}
	return out, nil
}

// sameChange compares what a change would write: its kind, object and stage, not the
// file's explanations (reason, fields, removal accounting).
func sameChange(a, b diff.Change) bool {
	return a.Course == b.Course && a.Kind == b.Kind && a.Action == b.Action && a.GroupName == b.GroupName &&
		a.AfterMethodRemoval == b.AfterMethodRemoval && a.IsRemoval() == b.IsRemoval() &&
		sameJSON(a.Method, b.Method) && sameJSON(a.Enrolment, b.Enrolment) && sameJSON(a.Group, b.Group) && sameJSON(a.Member, b.Member)
}

func sameJSON(a, b any) bool {
	ja, errA := json.Marshal(a)
	jb, errB := json.Marshal(b)
	return errA == nil && errB == nil && string(ja) == string(jb)
}

func otherAction(p diff.Plan, addr string) diff.Action {
	for _, c := range p.Changes {
		if c.Address == addr {
			return c.Action
		}
	}
	return ""
}

func article(a diff.Action) string {
	if a == diff.Update {
		return "an"
	}
	return "a"
}
