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
// swapped for admin). planfile.Read checks the whole file, once, before anything is
// read from Moodle; VerifySaved then accepts only the changes that the specs checked out here
// (bound to the plan by its digest) produce against the live state, and returns those changes as computed now,
// so that guards and removal accounting never come from the file.

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
