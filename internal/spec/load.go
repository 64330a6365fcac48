package spec

import (
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"reflect"
	"runtime"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/enrolctl/enrolctl/internal/diag"
	"github.com/enrolctl/enrolctl/internal/tree"
)

// Diagnostic and Diagnostics are the loader's findings, with file:line:col.
type (
	Diagnostic  = diag.Diagnostic
	Diagnostics = diag.Diagnostics
	Severity    = diag.Severity
)

// The severities of diagnostics: errors stop plan and apply, warnings do not.
const (
	SeverityError   = diag.Error
	SeverityWarning = diag.Warning
)

// Options are the site facts a spec is read against.
type Options struct {
	// Location is the site's time zone: a date YYYY-MM-DD is that whole day there.
	// Nil means UTC.
	Location *time.Location
	// Roles are role shortnames the site has besides Moodle's standard ones.
	Roles []string
	// SiteRoles, when not nil, are the role shortnames the site has (read from Moodle,
	// after the site is read): roles are then checked against them and Roles, not
	// against Moodle's standard list.
	SiteRoles []string
	// CacheDir, when set, is the folder of the parse cache (cache.go): clean YAML
	// course specs whose bytes were read before are decoded from it, not parsed.
	CacheDir string
	// CacheKey is the user's secret that seals the packs (cache.go); no cache without
	// it. It must not come from the repository the specs are in.
	CacheKey []byte

	// cache is CacheDir's pack for this load, set by load.
	cache *specCache
	// shared are the folder's variables.hcl values, set by load.
	shared *tree.Shared
	// budget is what the HCL files of one load may evaluate together, set by load.
	budget *tree.Budget
}

// knownRoles are the role shortnames a spec may name.
func (o Options) knownRoles() []string {
	if o.SiteRoles != nil {
		return append(slices.Clone(o.SiteRoles), o.Roles...)
	}
	return append(slices.Clone(StandardRoles), o.Roles...)
}

// Set is every course spec and policy read from a folder, and what was wrong in them.
type Set struct {
	Courses  []*CourseSpec // sorted by shortname, then file
	Policies []*Policy     // sorted by file, then name
	Files    []string      // every file read, sorted
	// Digest is "sha256:" over the path (below the folder) and content of every file
	// read, as read: a saved plan is bound to exactly the specs it was planned from,
	// and apply recomputes it from what it re-plans from.
	Digest string
	// Diagnostics holds the errors and warnings of every file, sorted. Nothing may be
	// applied while it HasErrors.
	Diagnostics Diagnostics
}

// Course returns the spec of the course with the given shortname, if any.
func (s *Set) Course(shortname string) (*CourseSpec, bool) {
	for _, c := range s.Courses {
		if c.Shortname == shortname {
			return c, true
		}
	}
	return nil, false
}

// IsSpecFile reports whether a file name is one the loader reads.
func IsSpecFile(name string) bool {
	switch strings.ToLower(path.Ext(name)) {
	case ".yaml", ".yml", ".hcl":
		return !strings.HasPrefix(path.Base(name), ".")
	}
	return false
}

// configNames are repository configuration files, skipped when the spec folder is the
// repository root.
var configNames = []string{"enrolctl.yaml", "enrolctl.yml", "enrolctl.hcl"}

// Load reads every spec and policy file (.yaml, .yml, .hcl) under root in fsys,
// skipping hidden files and folders. root may also name one file. Paths in the Set
// and its diagnostics are fsys paths (root joined with the path below it), so an
// os.DirFS of the repository root gives repository-relative paths.
func Load(fsys fs.FS, root string, opts Options) *Set {
	return load(fsys, root, opts, func(p string) string { return p })
}

// LoadDir reads the spec folder dir on disk; paths in diagnostics start with dir as
// given (relative to the working directory when dir is).
func LoadDir(dir string, opts Options) *Set {
	return load(os.DirFS(dir), ".", opts, func(p string) string { return filepath.Join(dir, filepath.FromSlash(p)) })
}

// LoadDirFrom reads the spec folder dir (absolute) and names its files relative to
// the folder wd (absolute) enrolctl runs in, which may be inside dir or beside it:
// specs/sub/x.yaml is x.yaml from specs/sub, ../site3/specs/x.yaml from site2.
func LoadDirFrom(dir, wd string, opts Options) *Set {
	return load(os.DirFS(dir), ".", opts, func(p string) string {
		full := filepath.Join(dir, filepath.FromSlash(p))
		if r, err := filepath.Rel(wd, full); err == nil {
			return r
		}
		return full
	})
}

func load(fsys fs.FS, root string, opts Options, display func(string) string) *Set {
	dir, onDisk := osDir(fsys)
	if opts.CacheDir != "" {
		where := display(root)
		if onDisk {
			where, _ = filepath.Abs(filepath.Join(dir, filepath.FromSlash(root)))
		}
		if opts.cache = openCache(opts.CacheDir, where, opts); opts.cache != nil {
			defer opts.cache.save()
		}
	}
	if onDisk {
		if set, ok := loadDisk(dir, root, opts, display); ok {
			return set
		}
	}
	return loadFS(fsys, root, opts, display)
}

// osDir is the folder of an os.DirFS, which loadDisk reads without going through
// the fs.FS; ok is false for any other file system (a git tree, a test's map).
func osDir(fsys fs.FS) (string, bool) {
	v := reflect.ValueOf(fsys)
	if !v.IsValid() || v.Type() != dirFSType || v.String() == "" {
		return "", false
	}
	return v.String(), true
}

var dirFSType = reflect.TypeOf(os.DirFS("."))

// loadFS is load through the fs.FS, one file at a time, checking links: for any file
// system, and for a folder on disk that holds links or files that are not regular.
func loadFS(fsys fs.FS, root string, opts Options, display func(string) string) *Set {
	set := &Set{}
	var files []string
	err := fs.WalkDir(fsys, root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			set.Diagnostics = append(set.Diagnostics, diag.Errorf(diag.Pos{File: display(p)}, "cannot read: %v", unwrapPath(err)))
			if d != nil && d.IsDir() && p != root {
				return fs.SkipDir
			}
			return nil
		}
		if p != root && strings.HasPrefix(d.Name(), ".") {
			if d.IsDir() {
				return fs.SkipDir
			}
			return nil
		}
		if d.Type()&fs.ModeSymlink != 0 && !IsSpecFile(p) {
			// A link to a folder is not walked; one out of the spec folder is said, so
			// that nobody believes the files it leads to are read.
			if info, err := fs.Stat(fsys, p); err == nil && info.IsDir() {
				if _, err := resolveInside(fsys, root, p, nil); err != nil {
					set.Diagnostics = append(set.Diagnostics, diag.Errorf(diag.Pos{File: display(p)}, "not read: %v", err))
				}
			}
			return nil
		}
		if d.IsDir() || !IsSpecFile(p) {
			return nil
		}
		if path.Dir(p) == path.Clean(root) && slices.Contains(configNames, d.Name()) {
			return nil
		}
		files = append(files, p)
		return nil
	})
	if err != nil {
		set.Diagnostics = append(set.Diagnostics, diag.Errorf(diag.Pos{File: display(root)}, "cannot read: %v", err))
	}
	slices.Sort(files)
	digest := newTreeDigest(root)
	opts.budget = &tree.Budget{}
	folders := map[string]bool{} // the folders found not to be links, read one file at a time
	files = loadShared(fsys, root, files, &opts, set, display, digest, folders)
	// Files are read one at a time (an fs.FS need not allow more) and parsed in
	// parallel into index-addressed results, merged in file order.
	results := make([]fileResult, len(files))
	var wg sync.WaitGroup
	work := make(chan int)
	for range max(1, min(runtime.GOMAXPROCS(0), len(files))) {
		wg.Go(func() {
			yr := tree.YAMLReader{Owned: true} // a file's content is only read once read
			for i := range work {
				results[i] = parseFile(results[i].file, results[i].src, opts, &yr)
			}
		})
	}
	for i, p := range files {
		src, err := readSpecFile(fsys, root, p, folders)
		digest.add(p, src, err)
		results[i].file = display(p)
		if err != nil {
			results[i].diags = diag.Diagnostics{diag.Errorf(diag.Pos{File: display(p)}, "cannot read: %v", err)}
			continue
		}
		results[i].src = src
		work <- i
	}
	close(work)
	wg.Wait()
	for _, r := range results {
		set.merge(r)
	}
	set.Digest = digest.sum()
	set.finish()
	return set
}

// fileResult is what one file holds.
type fileResult struct {
	file     string
	src      []byte
	courses  []*CourseSpec
	policies []*Policy
	diags    diag.Diagnostics
}

func (s *Set) merge(r fileResult) {
	s.Files = append(s.Files, r.file)
	s.Courses = append(s.Courses, r.courses...)
	s.Policies = append(s.Policies, r.policies...)
	s.Diagnostics = append(s.Diagnostics, r.diags...)
}

func unwrapPath(err error) error {
	if pe, ok := err.(*fs.PathError); ok {
		return pe.Err
	}
	return err
}

// LoadBytes reads one file's content, as if it were the only file (tests, stdin).
func LoadBytes(file string, src []byte, opts Options) *Set {
	set := &Set{}
	set.merge(parseFile(file, src, opts, new(tree.YAMLReader)))
	set.finish()
	return set
}

// parseFileAll parses and checks one file, reporting every diagnostic. yr is the
// calling goroutine's: nothing decoded keeps a node.
func parseFileAll(file string, src []byte, opts Options, yr *tree.YAMLReader) fileResult {
	s := &fileResult{file: file}
	loc := opts.Location
	if loc == nil {
		loc = time.UTC
	}
	d := &decoder{loc: loc, roles: opts.knownRoles(), siteRoles: opts.SiteRoles != nil, ds: &s.diags}
	var docs []*tree.Node
	if strings.EqualFold(path.Ext(file), ".hcl") {
		n, ds := tree.ParseHCLShared(file, src, hclRules, opts.shared, opts.budget)
		s.diags = append(s.diags, ds...)
		if n == nil {
			return *s
		}
		o := tree.ReadObject(n, "HCL spec file", d.ds)
		for _, key := range []string{"$courses", "$policies"} {
			if f := o.Get(key); f != nil {
				docs = append(docs, f.Value.Items...)
			}
		}
		o.Done()
		if len(docs) == 0 && !s.diags.HasErrors() && !commentedOut(src, "#", "//") {
			s.diags = append(s.diags, diag.Diagnostic{File: file, Severity: diag.Warning, Message: "no course or policy block in this file"})
		}
	} else {
		var ds diag.Diagnostics
		docs, ds = yr.Parse(file, src)
		s.diags = append(s.diags, ds...)
		if len(docs) == 0 && len(ds) == 0 && !commentedOut(src, "#") {
			s.diags = append(s.diags, diag.Diagnostic{File: file, Severity: diag.Warning, Message: "empty file: no course or policy in it"})
		}
	}
	for _, n := range docs {
		c, p := d.document(n, file)
		if c != nil {
			s.courses = append(s.courses, c)
		}
		if p != nil {
			s.policies = append(s.policies, p)
		}
	}
	return *s
}

// finish sorts the set and runs the checks that span files.
func (s *Set) finish() {
	slices.SortStableFunc(s.Courses, func(a, b *CourseSpec) int {
		return cmpOr(strings.Compare(a.Shortname, b.Shortname), strings.Compare(a.File, b.File), a.Pos.Line-b.Pos.Line)
	})
	slices.SortStableFunc(s.Policies, func(a, b *Policy) int {
		return cmpOr(strings.Compare(a.File, b.File), a.Pos.Line-b.Pos.Line)
	})
	slices.Sort(s.Files)
	// A course declared twice: report the later one, naming both places, and keep the first.
	var courses []*CourseSpec
	for i, c := range s.Courses {
		if i > 0 && courses[len(courses)-1].Shortname == c.Shortname {
			first := courses[len(courses)-1]
			s.Diagnostics = append(s.Diagnostics, diag.Errorf(c.Pos, "course %q is declared in two places: %s and here; keep one spec per course", c.Shortname, first.Pos))
			continue
		}
		courses = append(courses, c)
	}
	s.Courses = courses
	names := map[string]diag.Pos{}
	for _, p := range s.Policies {
		if first, dup := names[p.Name]; dup {
			s.Diagnostics = append(s.Diagnostics, diag.Errorf(p.Pos, "policy %q is declared in two places: %s and here; policy names must be unique", p.Name, first))
			continue
		}
		names[p.Name] = p.Pos
	}
	s.Diagnostics = capDiagnostics(s.Diagnostics, MaxDiagnostics, "from here on")
}

func cmpOr(vs ...int) int {
	for _, v := range vs {
		if v != 0 {
			return v
		}
	}
	return 0
}

// loadShared reads the folder's variables file (tree.SharedFileName at the root), whose
// variables and locals every HCL file can use, and returns the other files.
func loadShared(fsys fs.FS, root string, files []string, opts *Options, set *Set, display func(string) string, digest *treeDigest, folders map[string]bool) []string {
	name := path.Join(root, tree.SharedFileName)
	i := slices.Index(files, name)
	if i < 0 {
		return files
	}
	file := display(name)
	set.Files = append(set.Files, file)
	src, err := readSpecFile(fsys, root, name, folders)
	digest.add(name, src, err)
	if err != nil {
		set.Diagnostics = append(set.Diagnostics, diag.Errorf(diag.Pos{File: file}, "cannot read: %v", err))
	} else {
		shared, ds := tree.ParseShared(file, src)
		set.Diagnostics = append(set.Diagnostics, ds...)
		opts.shared = shared
	}
	return slices.Delete(slices.Clone(files), i, i+1)
}

// commentedOut reports whether src holds comments and nothing else (blank lines
// aside): a spec kept commented out on purpose, as init writes one for a real site,
// is no mistake to warn about on every plan. An empty file still is.
func commentedOut(src []byte, markers ...string) bool {
	comments := false
	for _, line := range strings.Split(string(src), "\n") {
		line = strings.TrimSpace(strings.TrimPrefix(line, "\ufeff"))
		if line == "" {
			continue
		}
		if !slices.ContainsFunc(markers, func(m string) bool { return strings.HasPrefix(line, m) }) {
			return false
		}
		comments = true
	}
	return comments
}
