package cli

import (
	"fmt"
	"path/filepath"
	"slices"

	"github.com/enrolctl/enrolctl/internal/config"
	"github.com/enrolctl/enrolctl/internal/gitsrc"
	"github.com/enrolctl/enrolctl/internal/moodle"
	"github.com/enrolctl/enrolctl/internal/spec"
	"github.com/enrolctl/enrolctl/internal/state"
)

// onlyChanged keeps the desired courses that --changed-since REF concerns: those whose
// spec files changed since REF, and those a changed policy selects now or selected at
// REF. When the configuration itself changed, every course is kept.
func (a *App) onlyChanged(conn *siteConn, site *moodle.Site, desired state.Snapshot) (state.Snapshot, error) {
	ref := a.changedSince
	if ref == "" {
		return desired, nil
	}
	specsAbs := a.abs(conn.specsDir)
	repo, err := gitsrc.Open(specsAbs)
	if err != nil {
		return desired, fmt.Errorf("--changed-since %s: %v", ref, err)
	}
	files, err := repo.ChangedSince(ref)
	if err != nil {
		return desired, fmt.Errorf("--changed-since: %v", err)
	}
	changed := map[string]bool{}
	for _, f := range files {
		changed[f] = true
	}
	configs := []string{}
	if a.configPath != "" {
		configs = append(configs, a.abs(a.configPath))
	}
	for _, n := range config.Names {
		configs = append(configs, a.abs(n))
	}
	for _, c := range configs {
		if changed[c] {
			fmt.Fprintf(a.Err, "--changed-since %s: the configuration %s changed; planning every course.\n", ref, a.rel(c))
			return desired, nil
		}
	}

	keep := map[string]bool{}
	for _, c := range desired.Courses {
		if slices.ContainsFunc(c.Sources, func(s string) bool { return changed[a.abs(s)] }) {
			keep[c.Shortname] = true
		}
	}
	// A policy that changed may have selected courses it no longer selects: resolve the
	// specs as they were at REF and keep the courses the changed files contributed to.
	fsys, err := repo.FS(ref)
	if err != nil {
		return desired, fmt.Errorf("--changed-since: %v", err)
	}
	if root, err := filepath.Rel(repo.Root, specsAbs); err == nil {
		catalogue := make([]spec.CourseRef, len(site.Catalogue))
		for i, c := range site.Catalogue {
			catalogue[i] = spec.CourseRef{Shortname: c.Shortname, Category: c.CategoryPath}
		}
		old := spec.Load(fsys, filepath.ToSlash(root), spec.Options{Location: conn.loc, Roles: conn.site.Roles})
		before, _ := spec.Resolve(old, catalogue) // errors at REF are not this plan's concern
		for _, c := range before {
			if slices.ContainsFunc(c.Sources, func(s string) bool { return changed[filepath.Join(repo.Root, filepath.FromSlash(s))] }) {
				keep[c.Shortname] = true
			}
		}
	}
	var kept []state.Course
	for _, c := range desired.Courses {
		if keep[c.Shortname] {
			kept = append(kept, c)
		}
	}
	fmt.Fprintf(a.Err, "--changed-since %s: %d file(s) changed; planning %d of %d course(s).\n", ref, len(files), len(kept), len(desired.Courses))
	desired.Courses = kept
	return desired, nil
}

// abs resolves a path against the working directory.
func (a *App) abs(p string) string {
	if filepath.IsAbs(p) {
		return filepath.Clean(p)
	}
	return filepath.Join(a.Dir, p)
}
