package tree

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

// fastCases are plain YAML the fast reader takes, and YAML it must leave to yaml.v3.
var fastCases = []struct {
	src  string
	fast bool
}{
	{"course: A\n", true},
	{"# header\ncourse: MATH-101 # the course\nmethods:\n  - type: manual\n  - type: cohort\n    cohort: c1\n    role: student\n    enabled: false\n", true},
	{"manual:\n  role: editingteacher\n  until: 2027-06-30\n  users:\n    - \"20001763\"\n    - username: \"20001765\"\n      groups: [TD1, 'TD 2']\n    - username: a\n      until: 2026-07-03T08:00:00+02:00\n      suspended: true\n", true},
	{"groups:\n- TD1\n- TD2\nmax: 40\nempty: []\n", true},
	{"a:\n    b:\n        c: 1\n    d: x/y:z\n", true},
	{"url: http://example.org/a?b=c\n", true},
	{"a: 0\nb: 12345\n", true},
	// Left to yaml.v3.
	{"a: 0123\n", false},
	{"a: 1.5\n", false},
	{"a: yes\n", false},
	{"a: null\n", false},
	{"a: ~\n", false},
	{"a:\n", false},
	{"a: b\na: c\n", false},
	{"a: &x 1\nb: *x\n", false},
	{"a: !!str 1\n", false},
	{"a: |\n  text\n", false},
	{"a: {b: 1}\n", false},
	{"a: \"esc\\n\"\n", false},
	{"---\na: 1\n", false},
	{"a: 1\n---\nb: 2\n", false},
	{"a:\n\t- b\n", false},
	{"a: é\n", false},
	{"- a\n- b\n", false},
	{"a: b\n  c: d\n", false},
	{"a: b\n c\n", false},
	{"a: [b, [c]]\n", false},
	{"a: - b\n", false},
	{"a: -1\n", false},
	{"'a': 1\n", false},
	{"a: b: c\n", false},
	{"<<: {a: 1}\n", false},
	{"a:\r\n  b: 1\r\n", false},
	{"a: \"unterminated\n", false},
	{"a: [b\n", false},
	{"a:\n  - - b\n", false},
}

// The fast reader gives exactly yaml.v3's tree (kinds, tags, texts, positions) when it
// reads a file at all, on the cases above and on every YAML file of the repository.
func TestFastYAMLMatchesYAMLv3(t *testing.T) {
	for _, tc := range fastCases {
		got, ok := parsePlainYAML("f.yaml", []byte(tc.src))
		if ok != tc.fast {
			t.Errorf("%q: fast path taken %v, want %v", tc.src, ok, tc.fast)
		}
		if ok {
			compareWithYAMLv3(t, "f.yaml", []byte(tc.src), got)
		}
	}
	taken := 0
	var yr YAMLReader // one for every file, as a loader's worker has
	root := filepath.Join("..", "..")
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (d.Name() == ".git" || d.Name() == "node_modules") {
			return filepath.SkipDir
		}
		if d.IsDir() || !(strings.HasSuffix(path, ".yaml") || strings.HasSuffix(path, ".yml")) {
			return nil
		}
		src, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		if got, ok := yr.parsePlain(path, src); ok {
			taken++
			compareWithYAMLv3(t, path, src, got)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if taken < 5 {
		t.Errorf("the fast path read %d files of the repository: the comparison covers little", taken)
	}
}

// A YAMLReader reused from file to file reads each as a fresh one does: small files
// after large ones (arrays partly reused), large after small (arrays added), and files
// left to yaml.v3 in between.
func TestYAMLReaderReuse(t *testing.T) {
	var large strings.Builder
	large.WriteString("course: BIG\nmanual:\n  users:\n")
	for i := range 300 {
		fmt.Fprintf(&large, "    - username: u%d\n      groups: [TD%d, TP%d]\n", i, i%3, i%7)
	}
	var srcs []string
	for _, tc := range fastCases {
		srcs = append(srcs, tc.src, large.String())
	}
	for _, owned := range []bool{false, true} {
		yr := YAMLReader{Owned: owned}
		for i, src := range srcs {
			got, ds := yr.Parse("f.yaml", []byte(src))
			want, wantDs := ParseYAML("f.yaml", []byte(src))
			if d := cmp.Diff(dumpNodes(want), dumpNodes(got)); d != "" || fmt.Sprint(ds) != fmt.Sprint(wantDs) {
				t.Fatalf("owned %v: file %d read after others differs from a fresh read (-fresh +reused):\n%s%v", owned, i, d, ds)
			}
		}
		if len(yr.nodes.all) < 2 {
			t.Errorf("the large file fit in %d array(s) of nodes: the test does not reuse several", len(yr.nodes.all))
		}
	}
	// Not owned, the tree keeps its own copy: a caller may change its bytes.
	src := []byte("course: A\n")
	docs, _ := new(YAMLReader).Parse("f.yaml", src)
	src[8] = 'B'
	if got := docs[0].Fields[0].Value.Text; got != "A" {
		t.Errorf("a change to the caller's bytes reached the tree: %q", got)
	}
}

// dumpNodes writes trees out, a line a node (cmp.Diff of large trees is slow).
func dumpNodes(ns []*Node) string {
	var b strings.Builder
	var dump func(n *Node, indent string)
	dump = func(n *Node, indent string) {
		fmt.Fprintf(&b, "%s%v %v %q %q %v %v\n", indent, n.Kind, n.Pos, n.Tag, n.Text, n.Syntax, n.Bad)
		for _, it := range n.Items {
			dump(it, indent+"  ")
		}
		for _, f := range n.Fields {
			fmt.Fprintf(&b, "%s%q %v %v:\n", indent, f.Key, f.KeyPos, f.Block)
			dump(f.Value, indent+"  ")
		}
	}
	for _, n := range ns {
		dump(n, "")
	}
	return b.String()
}

func compareWithYAMLv3(t *testing.T, file string, src []byte, fast *Node) {
	t.Helper()
	slow, ds := parseYAMLv3(file, src)
	if len(ds) > 0 || len(slow) != 1 {
		t.Errorf("%s: the fast path read a file yaml.v3 reads as %d documents with %v", file, len(slow), ds)
		return
	}
	if d := cmp.Diff(slow[0], fast, cmpopts.IgnoreUnexported(Node{})); d != "" {
		t.Errorf("%s: the fast tree differs from yaml.v3's (-yaml.v3 +fast):\n%s", file, d)
	}
}

// FuzzFastYAML: whatever the input, the fast reader either declines it or reads it as
// yaml.v3 does.
func FuzzFastYAML(f *testing.F) {
	for _, tc := range fastCases {
		f.Add(tc.src)
	}
	f.Fuzz(func(t *testing.T, src string) {
		if got, ok := parsePlainYAML("f.yaml", []byte(src)); ok {
			compareWithYAMLv3(t, "f.yaml", []byte(src), got)
		}
	})
}
