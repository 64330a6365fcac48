package spec

import (
	"fmt"
	"testing"
	"testing/fstest"
)

// BenchmarkLoad2000 loads and resolves 2,000 course files of 50 users each, with one
// policy selecting every course: the size of a large university site.
func BenchmarkLoad2000(b *testing.B) {
	fsys, cat := bench2000()
	b.ResetTimer()
	for b.Loop() {
		set := Load(fsys, "specs", Options{Location: paris})
		courses, ds := Resolve(set, cat)
		if len(ds) != 0 || len(courses) != 2000 {
			b.Fatalf("%d courses, %v", len(courses), ds)
		}
	}
}

// BenchmarkResolve2000 is Resolve alone on BenchmarkLoad2000's specs.
func BenchmarkResolve2000(b *testing.B) {
	fsys, cat := bench2000()
	set := Load(fsys, "specs", Options{Location: paris})
	b.ResetTimer()
	for b.Loop() {
		if courses, ds := Resolve(set, cat); len(ds) != 0 || len(courses) != 2000 {
			b.Fatalf("%d courses, %v", len(courses), ds)
		}
	}
}

func bench2000() (fstest.MapFS, []CourseRef) {
	fsys := fstest.MapFS{}
	var cat []CourseRef
	for i := range 2000 {
		name := fmt.Sprintf("C%04d", i)
		cat = append(cat, CourseRef{Shortname: name, Category: "Ecampus / Sciences"})
		src := fmt.Sprintf("course: %s\nmethods:\n  - type: cohort\n    cohort: P%d\nmanual:\n  until: 2027-06-30\n  users:\n", name, i%40)
		for u := range 50 {
			src += fmt.Sprintf("    - username: u%05d\n      groups: [TP%d]\n", i*50+u, u%4)
		}
		ext := "yaml"
		if i%10 == 0 {
			ext = "yml"
		}
		fsys[fmt.Sprintf("specs/dept%02d/%s.%s", i%20, name, ext)] = &fstest.MapFile{Data: []byte(src)}
	}
	fsys["specs/policy.yaml"] = &fstest.MapFile{Data: []byte("policy: all\ncourses:\n  category: Ecampus\nmanual:\n  prune: suspend\n")}
	return fsys, cat
}
