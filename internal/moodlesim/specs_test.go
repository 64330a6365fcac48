package moodlesim

import (
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestExampleSpecsMatchDemoSite keeps specs/ and the demo site in step: every course,
// cohort and user the example specs name exists in DemoSite, so the sandbox's first
// plan shows work instead of unknown-name errors.
func TestExampleSpecsMatchDemoSite(t *testing.T) {
	s := DemoSite()
	root := filepath.Join("..", "..", "specs")
	var (
		courseRE = regexp.MustCompile(`(?m)^\s*(?:course:\s*|course\s+")([A-Z0-9-]+)`)
		linkRE   = regexp.MustCompile(`(?m)^\s*course:\s*([A-Z0-9-]+)\s*$|list:\s*\[([^\]]*)\]`)
		cohortRE = regexp.MustCompile(`(?m)cohort:\s*([A-Z0-9-]+)`)
		userRE   = regexp.MustCompile(`(?m)(?:^\s*-\s*"|username:\s*"?|user\s+")([a-z0-9]+)`)
	)
	files, users := 0, 0
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !(strings.HasSuffix(path, ".yaml") || strings.HasSuffix(path, ".hcl")) {
			return err
		}
		files++
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		text := string(data)
		var courses []string
		for _, m := range courseRE.FindAllStringSubmatch(text, -1) {
			courses = append(courses, m[1])
		}
		for _, m := range linkRE.FindAllStringSubmatch(text, -1) {
			courses = append(courses, m[1])
			for _, c := range strings.Split(m[2], ",") {
				courses = append(courses, strings.TrimSpace(c))
			}
		}
		for _, c := range courses {
			if c != "" && s.CourseID(c) == 0 {
				t.Errorf("%s: course %s is not in the demo site", path, c)
			}
		}
		for _, m := range cohortRE.FindAllStringSubmatch(text, -1) {
			if s.CohortID(m[1]) == 0 {
				t.Errorf("%s: cohort %s is not in the demo site", path, m[1])
			}
		}
		for _, m := range userRE.FindAllStringSubmatch(text, -1) {
			users++
			if s.UserID(m[1]) == 0 {
				t.Errorf("%s: user %s is not in the demo site", path, m[1])
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if files < 5 || users < 100 {
		t.Errorf("found %d spec files and %d users under %s", files, users, root)
	}
}
