package render

import (
	"bufio"
	"bytes"
	"fmt"
	"time"

	"github.com/enrolctl/enrolctl/internal/diff"
)

// driftSymbol marks an object made by hand in the text plan, as git marks untracked files.
const driftSymbol = "?"

// DriftLine counts the plan's drift for a summary: "2 objects made by hand in 1
// course, where the specs say who belongs and do not list them (left alone)".
func DriftLine(p diff.Plan) string {
	courses := map[string]bool{}
	for _, d := range p.Drift {
		courses[d.Course] = true
	}
	return fmt.Sprintf("%s made by hand in %s, where the specs say who belongs and do not list them (left alone)",
		plural(len(p.Drift), "object", "objects"), plural(len(courses), "course", "courses"))
}

// driftName names a drifted object: "enrolment manual/u", "membership "TP1/u"",
// "method self:Open".
func driftName(d diff.Drift) string {
	switch {
	case d.Method != nil:
		return "method " + d.Method.Key()
	case d.Enrolment != nil:
		return "enrolment " + d.Enrolment.Key()
	case d.Member != nil:
		return string(diff.KindMember) + " " + quote(d.GroupName+"/"+d.Member.Username)
	}
	return addressName(d.Course, d.Address)
}

// driftText says what a drifted object is and why it is drift.
func driftText(d diff.Drift, loc *time.Location) string {
	switch {
	case d.Code == diff.DriftUndeclaredMethod && d.Method != nil:
		return describeMethod(*d.Method, d.Enrolments) + "; no spec or policy declares it"
	case d.Code == diff.DriftUnlistedEnrolment && d.Enrolment != nil:
		return manualEnrolmentText("manual enrolment of a user the spec does not list", *d.Enrolment, loc)
	case d.Code == diff.DriftUndeclaredMember:
		return "group member the spec does not list in " + quote(d.GroupName)
	}
	return string(d.Code)
}

// writeDriftText lists the drift of the text plan by course, each object by name.
// A site can have hundreds of thousands of objects made by hand: their lines are
// written in pieces made on every core (inPieces), and the comment, the same for every
// member of a group, is made once per piece.
func writeDriftText(bw *bufio.Writer, p diff.Plan, paint func(code, s string) string) error {
	if len(p.Drift) == 0 {
		return nil
	}
	loc := location(p)
	bw.WriteString(paint(ansiBold+ansiYellow, "Drift: "+DriftLine(p)+":") + "\n")
	symbol := paint(ansiYellow, driftSymbol)
	pieces := (len(p.Drift) + pieceSize - 1) / pieceSize
	return inPieces(bw, pieces, func(k int, b *bytes.Buffer) {
		from, to := k*pieceSize, min((k+1)*pieceSize, len(p.Drift))
		course := ""
		if from > 0 {
			course = p.Drift[from-1].Course
		}
		memberGroup, memberComment, hasMember := "", "", false
		for _, d := range p.Drift[from:to] {
			if d.Course != course {
				course = d.Course
				b.WriteString("  " + paint(ansiBold, "course "+course) + "\n")
			}
			b.WriteString("    ")
			b.WriteString(symbol)
			b.WriteByte(' ')
			if d.Method == nil && d.Enrolment == nil && d.Member != nil && !needsQuote(d.GroupName) && !needsQuote(d.Member.Username) {
				b.WriteString(string(diff.KindMember) + " ") // as driftName, without building it
				b.WriteString(d.GroupName)
				b.WriteByte('/')
				b.WriteString(d.Member.Username)
			} else {
				b.WriteString(driftName(d))
			}
			b.WriteString("  ")
			if d.Code == diff.DriftUndeclaredMember {
				if !hasMember || d.GroupName != memberGroup {
					memberGroup, memberComment, hasMember = d.GroupName, paint(ansiDim, "# "+driftText(d, loc)), true
				}
				b.WriteString(memberComment)
			} else {
				b.WriteString(paint(ansiDim, "# "+driftText(d, loc)))
			}
			b.WriteByte('\n')
		}
	})
}

// writeDriftMarkdown names the drift in the reviewer's markdown, where it is never
// folded away: the drift job exists to show it.
func writeDriftMarkdown(bw *bufio.Writer, p diff.Plan) {
	if len(p.Drift) == 0 {
		return
	}
	loc := location(p)
	fmt.Fprintf(bw, "\n#### Drift (%d): made by hand where the specs say who belongs\n\n", len(p.Drift))
	for _, d := range p.Drift {
		fmt.Fprintf(bw, "- `%s` %s: %s\n", cell(d.Course), cell(driftName(d)), cell(driftText(d, loc)))
	}
	bw.WriteString("\nList them in the specs, or remove them in Moodle; the plan leaves them alone.\n")
}
