package render

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/enrolctl/enrolctl/internal/diag"
	"github.com/enrolctl/enrolctl/internal/diff"
)

// TextOptions tune the human plan.
type TextOptions struct {
	// Color writes ANSI colours; set it only when writing to a terminal.
	Color bool
	// Expand writes every change on its own line instead of collapsing identical
	// changes of a course into one line with a count (plan --expand).
	Expand bool
	// ShowUnmanaged lists the objects left alone, course by course, instead of
	// counting them (plan --show-unmanaged).
	ShowUnmanaged bool
}

// namesWidth is where the names under a collapsed removal wrap.
const namesWidth = 100

const (
	ansiReset  = "\x1b[0m"
	ansiBold   = "\x1b[1m"
	ansiDim    = "\x1b[2m"
	ansiRed    = "\x1b[31m"
	ansiGreen  = "\x1b[32m"
	ansiYellow = "\x1b[33m"
)

// Text writes the human plan: the errors, warnings and refusals first, then the courses
// that change, with identical changes collapsed to one line with a count (the same
// groups as the reviewer's markdown, collapse.go) and what is left alone counted, then
// one summary line. Renewing 1,108 enrolments reads as one line; a collapsed removal
// still names whom it removes.
//
// A site-wide plan's text is tens of megabytes: the courses and the drift are written
// in pieces, each made on one of the cores a few pieces ahead of the one written
// (inPieces), and written through a large buffer.
func Text(w io.Writer, p diff.Plan, opts TextOptions) error {
	bw := bufio.NewWriterSize(w, 64<<10)
	paint := painter(opts.Color)
	loc := location(p)
	changes, unmanaged := sortedByCourse(p)
	shown := slices.DeleteFunc(courseRuns(changes, unmanaged), func(r courseRun) bool {
		return !r.changed && (!opts.ShowUnmanaged || r.unmanaged[0] == r.unmanaged[1])
	})

	// What blocks or will be refused comes first, before the changes it concerns.
	for _, d := range p.Diagnostics {
		label := paint(ansiBold+ansiRed, "Error:")
		if d.Severity == diag.Warning {
			label = paint(ansiBold+ansiYellow, "Warning:")
		}
		if where := d.At().String(); where != "" {
			label += " " + where + ":"
		}
		bw.WriteString(label + " " + d.Text() + "\n")
	}
	if len(p.Refusals) > 0 {
		if len(p.Diagnostics) > 0 {
			bw.WriteString("\n")
		}
		bw.WriteString(paint(ansiBold+ansiRed, "Apply will refuse these removals:") + "\n")
		for _, r := range p.Refusals {
			bw.WriteString("  " + RefusalText(r, p.Limits) + "\n")
		}
	}
	if (len(p.Diagnostics) > 0 || len(p.Refusals) > 0) && len(shown) > 0 {
		bw.WriteString("\n")
	}

	collapsedLines, collapsedChanges, err := writeCourses(bw, changes, unmanaged, shown, loc, opts)
	if err != nil {
		return err
	}

	// Drift is named whatever the flags: finding it is what the drift job is for.
	if len(p.Drift) > 0 {
		if len(shown) > 0 || len(p.Diagnostics) > 0 || len(p.Refusals) > 0 {
			bw.WriteString("\n")
		}
		if err := writeDriftText(bw, p, paint); err != nil {
			return err
		}
	}

	// How to see what the counts stand for.
	var hints []string
	if collapsedLines > 0 {
		hints = append(hints, fmt.Sprintf("Collapsed: %s identical changes shown as %s with a count (--expand lists each one).",
			thousands(collapsedChanges), plural(collapsedLines, "line", "lines")))
	}
	if len(p.Unmanaged) > 0 && !opts.ShowUnmanaged {
		hints = append(hints, leftAloneLine(p, "--show-unmanaged"))
	}
	if (len(shown) > 0 || len(p.Drift) > 0) && len(hints) > 0 {
		bw.WriteString("\n")
	}
	for _, h := range hints {
		bw.WriteString(paint(ansiDim, h) + "\n")
	}

	if len(shown) > 0 || len(hints) > 0 || len(p.Diagnostics) > 0 || len(p.Refusals) > 0 || len(p.Drift) > 0 {
		bw.WriteString("\n")
	}
	bw.WriteString(paint(ansiBold, summaryLine(p.Summary(), p.HasChanges(), len(p.Diagnostics.Errors()))) + "\n")
	return bw.Flush()
}

// painter colours text when color is set.
func painter(color bool) func(code, s string) string {
	return func(code, s string) string {
		if !color || s == "" {
			return s
		}
		return code + s + ansiReset
	}
}

var symbolColor = map[string]string{"+": ansiGreen, "~": ansiYellow, "-": ansiRed}

// sortedByCourse are the plan's changes and unmanaged objects in course order: its
// own lists, which diff sorts so, or sorted copies (a course's own in plan order).
func sortedByCourse(p diff.Plan) ([]diff.Change, []diff.Unmanaged) {
	changes, unmanaged := p.Changes, p.Unmanaged
	if !slices.IsSortedFunc(changes, func(a, b diff.Change) int { return strings.Compare(a.Course, b.Course) }) {
		changes = slices.Clone(changes)
		slices.SortStableFunc(changes, func(a, b diff.Change) int { return strings.Compare(a.Course, b.Course) })
	}
	if !slices.IsSortedFunc(unmanaged, func(a, b diff.Unmanaged) int { return strings.Compare(a.Course, b.Course) }) {
		unmanaged = slices.Clone(unmanaged)
		slices.SortStableFunc(unmanaged, func(a, b diff.Unmanaged) int { return strings.Compare(a.Course, b.Course) })
	}
	return changes, unmanaged
}

// courseRun is one course of a plan sorted by course: where its changes and
// unmanaged objects are in those lists, and whether it changes anything.
type courseRun struct {
	name               string
	changes, unmanaged [2]int32 // from, to
	changed            bool     // a change is not a no-op
}

// courseRuns lists the courses of changes and unmanaged (both sorted by course) in
// course order.
func courseRuns(changes []diff.Change, unmanaged []diff.Unmanaged) []courseRun {
	n := 0
	each := func(fn func(name string, i, j int)) {
		i, j := 0, 0
		for i < len(changes) || j < len(unmanaged) {
			name := ""
			if j == len(unmanaged) || i < len(changes) && changes[i].Course <= unmanaged[j].Course {
				name = changes[i].Course
			} else {
				name = unmanaged[j].Course
			}
			from, to := i, j
			for i < len(changes) && changes[i].Course == name {
				i++
			}
			for j < len(unmanaged) && unmanaged[j].Course == name {
				j++
			}
			fn(name, from, to)
		}
	}
	each(func(string, int, int) { n++ }) // counted first: a site has 100,000 courses
	runs := make([]courseRun, 0, n)
	each(func(name string, i, j int) {
		r := courseRun{name: name, changes: [2]int32{int32(i), int32(i)}, unmanaged: [2]int32{int32(j), int32(j)}}
		for ; int(r.changes[1]) < len(changes) && changes[r.changes[1]].Course == name; r.changes[1]++ {
			r.changed = r.changed || changes[r.changes[1]].Action != diff.NoOp
		}
		for int(r.unmanaged[1]) < len(unmanaged) && unmanaged[r.unmanaged[1]].Course == name {
			r.unmanaged[1]++
		}
		runs = append(runs, r)
	})
	return runs
}

// piecesOf cuts runs into pieces of about size changes (and unmanaged objects) each.
func piecesOf(runs []courseRun, size int) [][]courseRun {
	var pieces [][]courseRun
	from, n := 0, 0
	for i, r := range runs {
		n += int(r.changes[1] - r.changes[0] + r.unmanaged[1] - r.unmanaged[0])
		if n >= size || i == len(runs)-1 {
			pieces = append(pieces, runs[from:i+1])
			from, n = i+1, 0
		}
	}
	return pieces
}

// pieceSize is how many changes, or drift objects, one piece of the text holds: about
// 60 kB of text. The pieces in the making are what rendering holds at once: pieces of
// 4,096 made the 10,000-course plan's peak 3 MB larger.
var pieceSize = 1024 // a variable for the tests, which cut small pieces

// writeCourses writes the shown courses, each with its lines, the names under its
// collapsed removals and its unmanaged objects, and returns how many lines collapsed
// how many changes.
func writeCourses(w io.Writer, changes []diff.Change, unmanaged []diff.Unmanaged, shown []courseRun, loc *time.Location, opts TextOptions) (collapsedLines, collapsedChanges int, err error) {
	pieces := piecesOf(shown, pieceSize)
	type counts struct{ lines, changes int }
	piecesCounts := make([]counts, len(pieces))
	first := 0 // the index in shown of each piece's first course, as the pieces are cut
	starts := make([]int, len(pieces))
	for i, pc := range pieces {
		starts[i], first = first, first+len(pc)
	}
	paint := painter(opts.Color)
	err = inPieces(w, len(pieces), func(k int, b *bytes.Buffer) {
		pc := pieces[k]
		// Only the shown courses' changes are grouped: those between them are no-ops.
		lines := groupLines(changes[pc[0].changes[0]:pc[len(pc)-1].changes[1]], loc, !opts.Expand)
		c := &piecesCounts[k]
		for n, r := range pc {
			at := 0
			for at < len(lines) && lines[at].Course == r.name {
				at++
			}
			l, cs := writeCourse(b, r.name, starts[k]+n > 0, lines[:at], unmanaged[r.unmanaged[0]:r.unmanaged[1]], loc, opts, paint)
			c.lines, c.changes = c.lines+l, c.changes+cs
			lines = lines[at:]
		}
	})
	for _, c := range piecesCounts {
		collapsedLines, collapsedChanges = collapsedLines+c.lines, collapsedChanges+c.changes
	}
	return collapsedLines, collapsedChanges, err
}

// writeCourse writes one course of the text plan, after a blank line unless it is the
// first, and returns how many of its lines collapsed how many changes.
func writeCourse(b *bytes.Buffer, course string, blank bool, groups []lineGroup, us []diff.Unmanaged, loc *time.Location, opts TextOptions, paint func(code, s string) string) (collapsedLines, collapsedChanges int) {
	if blank {
		b.WriteString("\n")
	}
	b.WriteString(paint(ansiBold, "course "+course) + "\n")
	for _, g := range groups {
		text, reason := g.line(loc)
		b.WriteString("  ")
		b.WriteString(paint(symbolColor[g.Symbol], g.Symbol))
		b.WriteByte(' ')
		b.WriteString(text)
		if reason != "" {
			b.WriteString("  " + paint(ansiDim, "# "+reason))
		}
		b.WriteByte('\n')
		if !g.Collapsed() {
			continue
		}
		collapsedLines++
		collapsedChanges += len(g.Changes)
		if g.Removal() {
			// What is taken away is named even when collapsed: apply never removes
			// anyone the plan did not show.
			writeNames(b, g.Changes)
		}
	}
	switch {
	case len(us) == 0:
	case !opts.ShowUnmanaged:
		b.WriteString("  " + paint(ansiDim, plural(len(us), "unmanaged object", "unmanaged objects")+" left alone") + "\n")
	default:
		if len(groups) > 0 {
			b.WriteString("\n")
		}
		b.WriteString("  " + paint(ansiDim, "unmanaged (left alone):") + "\n")
		for _, u := range us {
			b.WriteString("    " + paint(ansiDim, unmanagedName(u)+"  "+unmanagedText(u, loc)) + "\n")
		}
	}
	return collapsedLines, collapsedChanges
}

// writeNames lists a collapsed group's users under its line, wrapped at namesWidth.
// The line is written as it goes: a site-wide plan names tens of thousands of users.
func writeNames(bw *bytes.Buffer, cs []*diff.Change) {
	const indent = "      "
	bw.WriteString(indent)
	n := len(indent)
	for i, c := range cs {
		name := who(c)
		size := len(name)
		if i < len(cs)-1 {
			size++ // its comma
		}
		if n != len(indent) && n+1+size > namesWidth {
			bw.WriteString("\n" + indent)
			n = len(indent)
		}
		if n != len(indent) {
			bw.WriteByte(' ')
			n++
		}
		bw.WriteString(name)
		if i < len(cs)-1 {
			bw.WriteByte(',')
		}
		n += size
	}
	bw.WriteString("\n")
}
