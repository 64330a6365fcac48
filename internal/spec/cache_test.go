package spec

import (
	"crypto/hmac"
	"crypto/sha256"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/enrolctl/enrolctl/internal/diag"
	"github.com/enrolctl/enrolctl/internal/state"
	"github.com/enrolctl/enrolctl/internal/tree"
)

// cacheTree writes a spec folder whose clean files use every field the cache keeps,
// beside files it must not keep (errors, warnings, policies, HCL).
func cacheTree(t *testing.T, dir string) {
	t.Helper()
	diskTree(t, dir)
	files := map[string]string{
		"full.yaml": `course: FULL
protect: true
methods_prune: false
methods:
  - type: manual
  - type: cohort
    cohort: C1
    role: student
    group: Promo
  - type: self
    name: Libre
    enabled: false
    max_users: 40
  - type: meta
    course: PARENT
  - type: guest
    absent: true
manual:
  role: teacher
  until: 2027-06-30
  from: 2026-09-01
  prune: suspend
  users:
    - "1001"
    - username: u2
      groups: [TD1, TD2]
      until: 2027-03-31
      from: 2026-10-01
    - username: u3
      roles: [student, tutor]
      suspended: false
    - username: u4
      role: editingteacher
      until: never
    - username: u5
      until: 2027-06-30T18:00:00+02:00
groups:
  - TD1
  - name: TD2
    prune_members: true
`,
		"two.yaml":         "course: TWO-A\n---\ncourse: TWO-B\nmanual:\n  users: []\ngroups: []\n",
		"bare.yaml":        "course: BARE\n",
		"warn.yaml":        "# nothing yet\n",
		"role.yaml":        "course: ROLE\nmanual:\n  role: observer\n  users: [x]\n",
		"tz.yaml":          "course: TZ\nmanual:\n  from: 2027-03-28\n  until: 2027-10-31\n  users: [y]\n",
		"sub/again.yaml":   "course: BARE2\n",
		"sub/renamed.yaml": "course: REN\nmanual:\n  users: [r1, r2]\n",
	}
	for name, src := range files {
		write(t, dir, name, src)
	}
}

// testCacheKey seals the tests' packs, as the user's key does enrolctl's.
var testCacheKey = []byte("a user's key, not the repository's")

// loadCached loads dir as LoadDir does with the cache in cacheDir ("" none).
func loadCached(dir, cacheDir string, opts Options) *Set {
	opts.CacheDir, opts.CacheKey = cacheDir, testCacheKey
	return LoadDir(dir, opts)
}

func sameSet(t *testing.T, what string, want, got *Set) {
	t.Helper()
	if d := cmp.Diff(want, got, cmp.Exporter(func(reflect.Type) bool { return true })); d != "" {
		t.Errorf("%s differs from a load without the cache (-without +with):\n%s", what, d)
	}
}

// packOf is the one pack in the cache folder.
func packOf(t *testing.T, cacheDir string) string {
	t.Helper()
	packs, _ := filepath.Glob(filepath.Join(cacheDir, "specs-*.pack"))
	if len(packs) != 1 {
		t.Fatalf("want one pack in %s, have %v", cacheDir, packs)
	}
	return packs[0]
}

// A load with the cache, cold and warm, gives what a load without it gives, whole:
// specs, diagnostics with their positions, files and digest; through the disk reader
// and the careful one.
func TestCacheMatchesNoCache(t *testing.T) {
	specs := t.TempDir()
	cacheTree(t, specs)
	opts := Options{Location: paris, Roles: []string{"tutor"}}
	want := loadCached(specs, "", opts)
	if !want.Diagnostics.HasErrors() || len(want.Courses) < 8 {
		t.Fatalf("the tree should have errors and courses: %s", setDump(t, want))
	}
	cache := filepath.Join(t.TempDir(), "cache")
	sameSet(t, "cold", want, loadCached(specs, cache, opts))
	pack := packOf(t, cache)
	before, err := os.ReadFile(pack)
	if err != nil {
		t.Fatal(err)
	}
	sameSet(t, "warm", want, loadCached(specs, cache, opts))
	if after, _ := os.ReadFile(pack); string(after) != string(before) {
		t.Error("a warm run with nothing changed rewrote the pack")
	}
	// The careful reader (an fs.FS that is not a folder on disk) uses it too.
	fsOpts := opts
	fsOpts.CacheDir, fsOpts.CacheKey = cache, testCacheKey
	wantFS := Load(hideType{os.DirFS(specs).(dirFS)}, ".", opts)
	sameSet(t, "careful reader, warm", wantFS, Load(hideType{os.DirFS(specs).(dirFS)}, ".", fsOpts))

	// A renamed file hits under its new name; an edited one is parsed again.
	if err := os.Rename(filepath.Join(specs, "sub/renamed.yaml"), filepath.Join(specs, "sub/zz.yaml")); err != nil {
		t.Fatal(err)
	}
	write(t, specs, "bare.yaml", "course: BARE\nprotect: true\n")
	sameSet(t, "after a rename and an edit", loadCached(specs, "", opts), loadCached(specs, cache, opts))
}

// Entries kept are the pack's, not a parse in disguise: a pack altered and sealed
// again with the user's key shows in what is loaded; altered without it (as one
// committed with the specs would be), sealed with another key, truncated, of another
// format or garbage, it is ignored and rewritten.
func TestCachePackIsReadAndCheckedWhole(t *testing.T) {
	specs := t.TempDir()
	write(t, specs, "a.yaml", "course: A\nmanual:\n  users: [alice]\n")
	opts := Options{Location: paris}
	cache := filepath.Join(t.TempDir(), "cache")
	want := loadCached(specs, cache, opts)
	pack := packOf(t, cache)
	good, err := os.ReadFile(pack)
	if err != nil {
		t.Fatal(err)
	}
	sealWith := func(key []byte, b []byte) []byte {
		body := b[:len(b)-sha256.Size]
		h := hmac.New(sha256.New, key)
		h.Write(body)
		return h.Sum(body[:len(body):len(body)])
	}
	resum := func(b []byte) []byte { return sealWith(testCacheKey, b) }
	forged := resum([]byte(strings.Replace(string(good), "alice", "mallo", 1)))
	if err := os.WriteFile(pack, forged, 0o600); err != nil {
		t.Fatal(err)
	}
	if got := loadCached(specs, cache, opts); got.Courses[0].manual.users[0].username != "mallo" {
		t.Fatalf("the pack's entry was not used: %s", setDump(t, got))
	}
	bad := map[string][]byte{
		"checksum":     []byte(strings.Replace(string(good), "alice", "mallo", 1)),
		"another key":  sealWith([]byte("the repository's key"), []byte(strings.Replace(string(good), "alice", "mallo", 1))),
		"truncated":    good[:len(good)/2],
		"empty":        nil,
		"garbage":      []byte(strings.Repeat("\xff", 100)),
		"other format": resum([]byte(strings.Replace(string(good), "cache 3", "cache 2", 1))),
	}
	for name, data := range bad {
		t.Run(name, func(t *testing.T) {
			if err := os.WriteFile(pack, data, 0o600); err != nil {
				t.Fatal(err)
			}
			sameSet(t, "load", want, loadCached(specs, cache, opts))
			if again, _ := os.ReadFile(pack); string(again) != string(good) {
				t.Error("the pack was not rewritten")
			}
		})
	}
}

// Dates are turned into timestamps in the zone of the run, not of the run that
// wrote the pack; the roles checked against choose the pack.
func TestCacheFollowsZoneAndRoles(t *testing.T) {
	specs := t.TempDir()
	cacheTree(t, specs)
	cache := filepath.Join(t.TempDir(), "cache")
	loadCached(specs, cache, Options{Location: paris, Roles: []string{"tutor"}})
	ny, err := time.LoadLocation("America/New_York")
	if err != nil {
		t.Skip(err)
	}
	for _, opts := range []Options{
		{Location: ny, Roles: []string{"tutor"}},
		{Location: paris},
		{Location: paris, SiteRoles: []string{"student", "observer"}},
	} {
		sameSet(t, "other zone or roles", loadCached(specs, "", opts), loadCached(specs, cache, opts))
	}
	if packs, _ := filepath.Glob(filepath.Join(cache, "specs-*.pack")); len(packs) != 3 {
		t.Errorf("want a pack per set of roles, have %v", packs)
	}
}

// Loads at once share a pack safely: each gets its own result and the pack left is
// whole.
func TestCacheConcurrentLoads(t *testing.T) {
	specs := t.TempDir()
	cacheTree(t, specs)
	opts := Options{Location: paris, Roles: []string{"tutor"}}
	want := loadCached(specs, "", opts)
	cache := filepath.Join(t.TempDir(), "cache")
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			sameSet(t, "concurrent", want, loadCached(specs, cache, opts))
		})
	}
	wg.Wait()
	c := openCache(cache, mustAbs(t, specs), Options{Roles: []string{"tutor"}, CacheKey: testCacheKey})
	if len(c.entries) == 0 {
		t.Error("the pack left is not readable")
	}
	if tmp, _ := filepath.Glob(filepath.Join(cache, ".specs-*")); len(tmp) > 0 {
		t.Errorf("temporary files left: %v", tmp)
	}
}

// No key, no cache: nothing is read or written.
func TestCacheNeedsAKey(t *testing.T) {
	specs := t.TempDir()
	write(t, specs, "a.yaml", "course: A\n")
	cache := filepath.Join(t.TempDir(), "cache")
	LoadDir(specs, Options{CacheDir: cache})
	if _, err := os.Stat(cache); !os.IsNotExist(err) {
		t.Errorf("a load without a key made the cache folder: %v", err)
	}
}

// A cache folder (or .enrolctl) that is a symbolic link, as a repository may carry,
// is not written through: the pack holds usernames.
func TestCacheDoesNotWriteThroughALink(t *testing.T) {
	specs := t.TempDir()
	write(t, specs, "a.yaml", "course: A\nmanual:\n  users: [alice]\n")
	outside, state := t.TempDir(), t.TempDir()
	for _, link := range []string{filepath.Join(state, "cache"), filepath.Join(state, "dot", "cache")} {
		target := link
		if filepath.Base(filepath.Dir(link)) == "dot" {
			target = filepath.Dir(link)
		}
		if err := os.Symlink(outside, target); err != nil {
			t.Skip(err)
		}
		loadCached(specs, link, Options{Location: paris})
		if got, _ := os.ReadDir(outside); len(got) > 0 {
			t.Errorf("%s: wrote %v through the link", link, got)
		}
	}
}

func mustAbs(t *testing.T, p string) string {
	t.Helper()
	a, err := filepath.Abs(p)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// The codec writes every field of the model: a field added here must be added to
// cachecodec.go (and cacheFormat changed) before this list is updated.
func TestCacheCodecCoversTheModel(t *testing.T) {
	want := map[reflect.Type]string{
		reflect.TypeFor[CourseSpec]():   "Shortname File Pos methods manual groups groupsDeclared protect methodsPrune",
		reflect.TypeFor[methodDecl]():   "m pos",
		reflect.TypeFor[manualDecl]():   "pos role until from prune users",
		reflect.TypeFor[userDecl]():     "username at groups more",
		reflect.TypeFor[userMore]():     "role roles until from suspended",
		reflect.TypeFor[groupRef]():     "name at",
		reflect.TypeFor[spot]():         "line col",
		reflect.TypeFor[groupDecl]():    "name pos pruneMembers",
		reflect.TypeFor[date]():         "Unix Set Pos Text",
		reflect.TypeFor[state.Method](): "Type Name Cohort Role Course Group Enabled MaxUsers Absent ID Source CohortSource",
		reflect.TypeFor[tree.Str]():     "V Pos Set",
		reflect.TypeFor[tree.Bool]():    "V Pos Set",
		reflect.TypeFor[diag.Pos]():     "File Line Col",
	}
	for typ, fields := range want {
		var got []string
		for i := range typ.NumField() {
			got = append(got, typ.Field(i).Name)
		}
		if strings.Join(got, " ") != fields {
			t.Errorf("%s has fields %v; the cache codec knows %s", typ.Name(), got, fields)
		}
	}
}

// FuzzCacheDecode: any payload decodes without a panic, and what decodes encodes
// to a payload that decodes to the same.
func FuzzCacheDecode(f *testing.F) {
	dir := f.TempDir()
	for name, src := range map[string]string{
		"a.yaml": "course: A\nmanual:\n  until: 2027-06-30\n  users:\n    - u1\n    - username: u2\n      groups: [G]\n      roles: [student]\n      from: 2026-09-01\ngroups: [G]\nmethods:\n  - type: self\n    name: S\n",
		"b.yaml": "course: B\nprotect: true\n",
	} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(src), 0o600); err != nil {
			f.Fatal(err)
		}
	}
	for _, c := range LoadDir(dir, Options{Location: paris}).Courses {
		if b, ok := encodeCourses([]*CourseSpec{c}, c.File, 0); ok {
			f.Add(b)
		}
	}
	c := &specCache{loc: paris, days: map[dayKey]int64{}}
	f.Fuzz(func(t *testing.T, payload []byte) {
		cs, ok := decodeCourses(string(payload), "f.yaml", c.date)
		if !ok {
			return
		}
		again, ok := encodeCourses(cs, "f.yaml", 0)
		if !ok {
			t.Fatalf("decoded specs do not encode")
		}
		cs2, ok := decodeCourses(string(again), "f.yaml", c.date)
		if !ok {
			t.Fatalf("re-encoded specs do not decode")
		}
		if d := cmp.Diff(cs, cs2, cmp.Exporter(func(reflect.Type) bool { return true })); d != "" {
			t.Fatalf("round trip differs:\n%s", d)
		}
	})
}
