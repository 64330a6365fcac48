package cli

import (
	"context"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/enrolctl/enrolctl/internal/moodle"
)

// import moodle names what a spec cannot say for the first ten courses only, then counts
// the rest: a site whose every course has Moodle's default unnamed self method would
// otherwise print a line per course. Every spec file keeps its notes in its header.
func TestImportBoundsItsNotes(t *testing.T) {
	_, app, out, url := realSite(t)
	c, err := moodle.New(moodle.Config{URL: url, Token: doctorToken})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if _, err := c.SiteStatus(ctx); err != nil {
		t.Fatal(err)
	}
	cat, err := c.Catalogue(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var items []moodle.AddInstance
	for _, ref := range cat {
		items = append(items, moodle.AddInstance{CourseID: ref.ID, Enrol: "self", Disabled: true})
	}
	if len(items) < 12 {
		t.Fatalf("the demo site has %d courses, want at least 12", len(items))
	}
	res, err := moodle.Write(ctx, c, items)
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range res.Courses {
		if o.Outcome != moodle.Applied {
			t.Fatalf("adding a self method to course %d: %+v", o.CourseID, o)
		}
	}
	if code := app.Run([]string{"import", "moodle"}); code != 0 {
		t.Fatalf("import: exit %d\n%s", code, out)
	}
	noted := map[string]bool{}
	for _, line := range strings.Split(out.String(), "\n") {
		if course, _, ok := strings.Cut(line, ": not in the spec: "); ok {
			noted[course] = true
		}
	}
	more := len(items) - 1 - maxNotedCourses // FC-WORD has a spec: import leaves it alone
	if len(noted) != maxNotedCourses || !strings.Contains(out.String(), fmt.Sprintf("%d more course(s) have something their spec cannot say", more)) {
		t.Errorf("notes of %d courses, want %d and a count of %d more:\n%s", len(noted), maxNotedCourses, more, out)
	}
	headers := 0
	err = filepath.WalkDir(filepath.Join(app.Dir, "specs"), func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		if b, err := os.ReadFile(p); err == nil && strings.Contains(string(b), "# Not in this spec: self method id") {
			headers++
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if headers < len(items)-1 {
		t.Errorf("%d spec files name the unnamed self method in their header, want %d", headers, len(items)-1)
	}
}
