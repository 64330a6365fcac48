package spec

import (
	"os"
	"path/filepath"
	"testing"
)

// fuzzCheck loads src and checks properties that hold for any input: no panic, every
// diagnostic names the file and has a message, and resolving is deterministic.
func fuzzCheck(t *testing.T, file string, src []byte) {
	set := LoadBytes(file, src, Options{Location: paris})
	courses, ds := Resolve(set, siteCatalogue)
	for _, d := range ds {
		if d.File != file || d.Message == "" || d.Line < 0 || d.Col < 0 {
			t.Fatalf("bad diagnostic %#v", d)
		}
	}
	if n, checked := Check(set, siteCatalogue); n != len(courses) || checked.Error() != ds.Error() {
		t.Fatalf("Check gave %d courses and %v; Resolve %d and %v", n, checked, len(courses), ds)
	}
	again, ds2 := Resolve(LoadBytes(file, src, Options{Location: paris}), siteCatalogue)
	if string(renderDesired(courses)) != string(renderDesired(again)) || ds.Error() != ds2.Error() {
		t.Fatalf("loading twice gave different results")
	}
}

func addSeeds(f *testing.F, pattern string) {
	files, _ := filepath.Glob(pattern)
	for _, p := range files {
		if b, err := os.ReadFile(p); err == nil {
			f.Add(b)
		}
	}
}

func FuzzLoadYAML(f *testing.F) {
	addSeeds(f, "testdata/site/*/*.y*ml")
	f.Add([]byte("course: A\nmanual:\n  users: [a, &x b, *x]\n"))
	f.Fuzz(func(t *testing.T, src []byte) { fuzzCheck(t, "f.yaml", src) })
}

func FuzzLoadHCL(f *testing.F) {
	addSeeds(f, "testdata/site/*/*.hcl")
	f.Add([]byte(`locals { a = local.b
 b = local.a }
course "A" { manual { until = local.a } }`))
	f.Fuzz(func(t *testing.T, src []byte) { fuzzCheck(t, "f.hcl", src) })
}
