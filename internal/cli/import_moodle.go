package cli

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/text/unicode/norm"

	"github.com/enrolctl/enrolctl/internal/adopt"
	"github.com/enrolctl/enrolctl/internal/moodle"
	"github.com/enrolctl/enrolctl/internal/redact"
	"github.com/enrolctl/enrolctl/internal/safefile"
	"github.com/enrolctl/enrolctl/internal/spec"
	"github.com/enrolctl/enrolctl/internal/state"
)

// importMoodleFlags are import moodle's options.
type importMoodleFlags struct {
	courses  []string
	category string
	force    bool
	asManual []string
	until    string
	remove   bool
}

func (a *App) importMoodleCommand() *cobra.Command {
	var f importMoodleFlags
	cmd := &cobra.Command{
		Use:   "moodle",
		Short: "Write specs from the live courses of the site",
		Long: `Import moodle reads courses from the site and writes one spec per course into the
site's spec folder, laid out by category path (Santé / IFSI / IFSI-S1-ANAT goes to
specs/sante/ifsi/ifsi-s1-anat.yaml): the enrolment methods with their settings, the
manual enrolments (role, end date, suspended) with their group memberships, and the
course's groups. The most common role and end date become manual.role and
manual.until. A plan right after an import shows no change.

A course that already has a spec, or whose file exists, is left alone unless --force.

--as-manual database,cohort,meta (with --until) also writes the users those methods
enrol as manual users ending on --until, keeping their roles and the groups they are
in: applying the spec keeps their access when the sync drops them or the method is
removed. With --remove-converted, the converted cohort and meta methods are declared
absent: the plan adds the manual enrolments, then deletes the methods, and adds back
as manual memberships the group memberships their syncs made.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return a.importMoodle(cmd, f) },
	}
	cmd.Flags().StringSliceVar(&f.courses, "course", nil, "only these courses (shortnames or globs; repeatable)")
	cmd.Flags().StringVar(&f.category, "category", "", "only the courses of this category path and its subcategories")
	cmd.Flags().BoolVar(&f.force, "force", false, "overwrite existing specs of the imported courses")
	cmd.Flags().StringSliceVar(&f.asManual, "as-manual", nil, "write the users of these methods (database, cohort, meta) as manual users")
	cmd.Flags().BoolVar(&f.remove, "remove-converted", false, "declare the converted cohort and meta methods absent, so apply deletes them after adding the manual enrolments")
	cmd.Flags().StringVar(&f.until, "until", "", "end date of the users --as-manual converts (YYYY-MM-DD or never)")
	return cmd
}

func (a *App) importMoodle(cmd *cobra.Command, f importMoodleFlags) error {
	opts := adopt.Options{Until: f.until, RemoveConverted: f.remove}
	if f.remove && len(f.asManual) == 0 {
		return fmt.Errorf("--remove-converted goes with --as-manual")
	}
	for _, t := range f.asManual {
		mt := state.MethodType(strings.TrimSpace(t))
		if !mt.Automatic() {
			return fmt.Errorf("--as-manual %s: want database, cohort or meta", t)
		}
		opts.AsManual = append(opts.AsManual, mt)
	}
	if len(opts.AsManual) > 0 {
		if f.until == "" {
			return fmt.Errorf("--as-manual needs --until: the end date of the converted enrolments (YYYY-MM-DD, or never)")
		}
		if _, err := time.Parse(time.DateOnly, f.until); err != nil && f.until != "never" {
			return fmt.Errorf("--until %q: use a day, YYYY-MM-DD, or never", f.until)
		}
	} else if f.until != "" {
		return fmt.Errorf("--until is the end date of the users --as-manual converts; give --as-manual too")
	}
	if err := checkCoursePatterns(f.courses); err != nil {
		return err
	}

	conn, site, err := a.connectSite(cmd.Context())
	if err != nil {
		return err
	}
	if opts.Location, err = conn.location(site); err != nil {
		return err
	}
	refs := selectCatalogue(site.Catalogue, f.courses, f.category)
	if len(refs) == 0 {
		return fmt.Errorf("no course of %s matches the selection", conn.describe())
	}
	dir := a.path(conn.specsDir)
	set := &spec.Set{}
	if _, err := os.Stat(dir); err == nil {
		conn.loc = opts.Location
		set = a.loadSpecs(conn, siteRoleNames(site))
	}
	if set.Diagnostics.HasErrors() {
		a.printDiagnostics(set.Diagnostics)
		return errReported
	}
	names := make([]string, len(refs))
	for i, r := range refs {
		names[i] = r.Shortname
	}
	obs, err := conn.client.Observe(cmd.Context(), site, names, nil)
	if err != nil {
		return err
	}
	opts.Header = fmt.Sprintf("Imported from %s by enrolctl import moodle.", conn.describe())

	written, skipped, users, converted, noted := 0, 0, 0, 0, 0
	var errs []error
	colliding := a.collidingImports(set, dir, refs, f.force, func(name string) bool { _, ok := obs.Course(name); return ok })
	if len(colliding) > 0 {
		errs = append(errs, fmt.Errorf("%d course(s) not imported: their spec files would be one file on Windows and macOS", len(colliding)))
	}
	for _, ref := range refs {
		c, ok := obs.Course(ref.Shortname)
		if !ok || colliding[ref.Shortname] {
			continue
		}
		if _, has := set.Course(ref.Shortname); has && !f.force && len(opts.AsManual) > 0 {
			// A course that has a spec keeps it: the converted users are added to it.
			n, err := a.addConversions(set, dir, site, *c, opts)
			if err != nil {
				errs = append(errs, err)
				continue
			}
			written++
			converted += n
			users += n
			continue
		}
		file, err := importTarget(set, a.path, dir, ref, f.force)
		if err != nil {
			fmt.Fprintf(a.Err, "%s: %v\n", ref.Shortname, err)
			skipped++
			continue
		}
		res := adopt.Render(*c, opts)
		if err := writeFileAtomic(file, res.YAML); err != nil {
			errs = append(errs, err)
			continue
		}
		written++
		users += res.Users
		converted += res.Converted
		extra := ""
		if res.Converted > 0 {
			extra = fmt.Sprintf(", %d converted to manual", res.Converted)
		}
		fmt.Fprintf(a.Out, "wrote %s (%d manual user(s)%s)\n", a.rel(file), res.Users, extra)
		if len(res.Notes) > 0 {
			noted++
			if noted <= maxNotedCourses {
				for _, n := range res.Notes {
					fmt.Fprintf(a.Err, "%s: not in the spec: %s\n", ref.Shortname, n)
				}
			}
		}
	}
	if noted > maxNotedCourses {
		fmt.Fprintf(a.Err, "%d more course(s) have something their spec cannot say; each spec file's header lists it (\"# Not in this spec: ...\").\n", noted-maxNotedCourses)
	}
	fmt.Fprintf(a.Out, "Imported %d course(s), %d manual user(s)", written, users)
	if converted > 0 {
		fmt.Fprintf(a.Out, " (%d converted to manual, until %s)", converted, f.until)
	}
	fmt.Fprintln(a.Out, ". Review them with: enrolctl plan")
	if skipped > 0 {
		fmt.Fprintf(a.Err, "%d course(s) left alone because they already have a spec or their file exists (--force overwrites).\n", skipped)
	}
	return errors.Join(errs...)
}

// collidingImports finds the courses whose spec files would be one file where names
// differ only in case (Windows, macOS): ALGO, algo and "Algo " all slug to algo.yaml,
// and a file Algo.yaml someone wrote is algo.yaml there too. It says so once per file,
// naming the courses, and returns them: none is written, since which one would win
// depends on the order of the site's catalogue.
func (a *App) collidingImports(set *spec.Set, dir string, refs []moodle.CourseRef, force bool, observed func(string) bool) map[string]bool {
	type target struct {
		file  string
		names []string
	}
	byFile := map[string]*target{}
	var order []*target
	for _, ref := range refs {
		if !observed(ref.Shortname) {
			continue
		}
		file, err := importTarget(set, a.path, dir, ref, force)
		if err != nil {
			continue // said in the import loop
		}
		t := byFile[foldName(file)]
		if t == nil {
			t = &target{file: file}
			byFile[foldName(file)] = t
			order = append(order, t)
		}
		t.names = append(t.names, ref.Shortname)
	}
	out := map[string]bool{}
	for _, t := range order {
		twin := caseTwin(dir, t.file)
		if len(t.names) < 2 && twin == "" {
			continue
		}
		quoted := make([]string, len(t.names))
		for i, n := range t.names {
			quoted[i] = fmt.Sprintf("%q", n)
			out[n] = true
		}
		if twin == "" {
			fmt.Fprintf(a.Err, "courses %s: their specs would all be %s (file names that differ only in case or spaces are one file on Windows and macOS); none imported: write their specs by hand, each in a file of its own name\n", strings.Join(quoted, ", "), a.rel(t.file))
		} else {
			fmt.Fprintf(a.Err, "course(s) %s: the spec would be %s, but %s exists (one file on Windows and macOS); not imported: rename that file or write the spec by hand\n", strings.Join(quoted, ", "), a.rel(t.file), a.rel(twin))
		}
	}
	return out
}

// foldName is a file path as a case-insensitive file system compares it.
func foldName(file string) string { return strings.ToLower(norm.NFC.String(file)) }

// caseTwin is a file or folder on the way from dir down to file (file included) whose
// name differs from the one the path takes only in case, or "": specs/Ecampus beside
// specs/ecampus is one folder on Windows and macOS.
func caseTwin(dir, file string) string {
	rel, err := filepath.Rel(dir, file)
	if err != nil || !filepath.IsLocal(rel) {
		return ""
	}
	parent := dir
	for _, name := range strings.Split(rel, string(filepath.Separator)) {
		entries, err := os.ReadDir(parent)
		if err != nil {
			return ""
		}
		for _, e := range entries {
			if e.Name() != name && foldName(e.Name()) == foldName(name) {
				return filepath.Join(parent, e.Name())
			}
		}
		parent = filepath.Join(parent, name)
	}
	return ""
}

// maxNotedCourses bounds the courses whose notes import prints: on a site where every
// course has Moodle's default unnamed self method, one line per course would bury the
// rest; every spec file's header keeps its own notes.
const maxNotedCourses = 10

// selectCatalogue keeps the courses the globs and the category select (all when
// neither is given), in catalogue order.
func selectCatalogue(cat []moodle.CourseRef, globs []string, category string) []moodle.CourseRef {
	var out []moodle.CourseRef
	for _, r := range cat {
		if category != "" && !spec.InCategory(r.CategoryPath, category) {
			continue
		}
		if len(globs) > 0 && !slices.ContainsFunc(globs, func(g string) bool { ok, _ := path.Match(g, r.Shortname); return ok }) {
			continue
		}
		out = append(out, r)
	}
	slices.SortFunc(out, func(a, b moodle.CourseRef) int { return strings.Compare(a.Shortname, b.Shortname) })
	return out
}

// importTarget is the file a course's imported spec goes to: its existing spec with
// --force (when that file declares nothing else and is YAML), else the place
// adopt.Path gives, which must not exist yet unless --force.
// abs makes a spec's path (relative to the working directory) absolute.
func importTarget(set *spec.Set, abs func(string) string, dir string, ref moodle.CourseRef, force bool) (string, error) {
	if existing, ok := set.Course(ref.Shortname); ok {
		if !force {
			return "", fmt.Errorf("already has a spec in %s (--force overwrites it)", existing.File)
		}
		if ext := strings.ToLower(filepath.Ext(existing.File)); ext != ".yaml" && ext != ".yml" {
			return "", fmt.Errorf("its spec is in %s; import writes YAML: remove that spec first", existing.File)
		}
		if n := declarationsIn(set, existing.File); n > 1 {
			return "", fmt.Errorf("its spec is in %s along with %d other course(s) or policies; move it to its own file first", existing.File, n-1)
		}
		return abs(existing.File), nil
	}
	file := adopt.Path(dir, ref.CategoryPath, ref.Shortname)
	if _, err := os.Stat(file); err == nil && !force {
		return "", fmt.Errorf("%s exists (--force overwrites it)", file)
	}
	return file, nil
}

// declarationsIn counts the courses and policies a spec file declares.
func declarationsIn(set *spec.Set, file string) int {
	n := 0
	for _, c := range set.Courses {
		if c.File == file {
			n++
		}
	}
	for _, p := range set.Policies {
		if p.File == file {
			n++
		}
	}
	return n
}

// writeFileAtomic writes through a temporary file in the same folder, so that an
// interrupted import never leaves half a spec.
func writeFileAtomic(file string, data []byte) error {
	if err := os.MkdirAll(filepath.Dir(file), 0o755); err != nil {
		return err
	}
	if old, err := os.ReadFile(file); err == nil && bytes.Equal(old, data) {
		return nil
	}
	return safefile.WriteAtomic(file, 0o644, false, func(w io.Writer) error {
		_, err := w.Write(redact.Bytes(data))
		return err
	})
}

// addConversions adds the users opts.AsManual converts to a course's existing spec,
// with spec.WriteAdditions (the writer import csv uses), and returns how many.
func (a *App) addConversions(set *spec.Set, dir string, site *moodle.Site, c state.Course, opts adopt.Options) (int, error) {
	conv := adopt.Conversions(c, opts)
	if len(conv) == 0 {
		fmt.Fprintf(a.Out, "%s: no user to convert\n", c.Shortname)
		return 0, nil
	}
	adds := make([]spec.Addition, len(conv))
	for i, u := range conv {
		adds[i] = spec.Addition{Course: c.Shortname, Username: u.Username, Role: u.Role, Until: u.Until,
			Suspended: u.Suspended, Groups: u.Groups}
	}
	for _, sc := range set.Courses {
		sc.File = a.path(sc.File)
	}
	files, err := spec.WriteAdditions(set, dir, adds, func(course string) string {
		ref, _ := site.CourseByName(course)
		return adopt.Path(dir, ref.CategoryPath, course)
	})
	for _, f := range files {
		fmt.Fprintf(a.Out, "added %d converted user(s) to %s\n", len(conv), a.rel(f))
	}
	if opts.RemoveConverted {
		fmt.Fprintf(a.Err, "%s: its spec is kept; declare the converted methods absent in it to remove them (see docs/spec.md, Methods)\n", c.Shortname)
	}
	return len(conv), err
}
