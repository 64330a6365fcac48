package render

import (
	"bytes"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/enrolctl/enrolctl/internal/diff"
	"github.com/enrolctl/enrolctl/internal/state"
)

// The text made in pieces on several cores is the text made in one piece: cut after
// every change or drift object, or every few, whatever the plan and the options
// (courses whose lines, names and unmanaged objects straddle pieces, drift whose
// courses and member comments do).
func TestTextInPiecesIsTheWholeText(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(4))
	defer func(size int) { pieceSize = size }(pieceSize)
	all := plans(t)
	all["mixed"] = mixedPlan(t)
	all["drift"] = driftPlan()
	for name, p := range all {
		for _, opts := range []TextOptions{{}, {Expand: true}, {ShowUnmanaged: true}, {Color: true, Expand: true, ShowUnmanaged: true}} {
			pieceSize = 1 << 30
			var whole bytes.Buffer
			if err := Text(&whole, p, opts); err != nil {
				t.Fatal(err)
			}
			for _, size := range []int{1, 2, 5} {
				pieceSize = size
				var got bytes.Buffer
				if err := Text(&got, p, opts); err != nil {
					t.Fatal(err)
				}
				if d := cmp.Diff(whole.String(), got.String()); d != "" {
					t.Errorf("%s %+v, pieces of %d (-whole +pieces):\n%s", name, opts, size, d)
				}
			}
		}
	}
}

// driftPlan has drift in several courses, members of one group in a row.
func driftPlan() diff.Plan {
	var p diff.Plan
	for _, course := range []string{"A", "B", "C"} {
		for _, u := range []string{"u1", "u2", "u3"} {
			p.Drift = append(p.Drift, diff.Drift{Course: course, Kind: diff.KindMember, Code: diff.DriftUndeclaredMember, GroupName: "TP1",
				Member: &state.Member{Username: u}, Address: state.MemberAddress(course, "TP1", u)})
		}
		p.Drift = append(p.Drift, diff.Drift{Course: course, Kind: diff.KindEnrolment, Code: diff.DriftUnlistedEnrolment,
			Enrolment: &state.Enrolment{Username: "x", Method: "manual"}, Address: state.EnrolmentAddress(course, "manual", "x")})
	}
	return p
}

// failAt fails its n-th write.
type failAt struct {
	n      int
	writes []string
}

func (f *failAt) Write(b []byte) (int, error) {
	if len(f.writes) == f.n {
		return 0, errors.New("disk full")
	}
	f.writes = append(f.writes, string(b))
	return len(b), nil
}

// Pieces are written in order, each whole, and the first error ends the writing:
// nothing is written after it, and the pieces made ahead are dropped.
func TestInPiecesInOrderUntilAnError(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(4))
	piece := func(i int, b *bytes.Buffer) { fmt.Fprintf(b, "%d,", i) }
	var all strings.Builder
	if err := inPieces(&all, 1000, piece); err != nil {
		t.Fatal(err)
	}
	var want strings.Builder
	for i := range 1000 {
		fmt.Fprintf(&want, "%d,", i)
	}
	if all.String() != want.String() {
		t.Errorf("pieces written out of order: %.200s", all.String())
	}
	w := &failAt{n: 3}
	if err := inPieces(w, 1000, piece); err == nil || err.Error() != "disk full" {
		t.Errorf("error = %v, want disk full", err)
	}
	if want := []string{"0,", "1,", "2,"}; !cmp.Equal(w.writes, want) {
		t.Errorf("written %q, want %q", w.writes, want)
	}
}
