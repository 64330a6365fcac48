package cli

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"

	"github.com/enrolctl/enrolctl/internal/config"
	"github.com/enrolctl/enrolctl/internal/diff"
	"github.com/enrolctl/enrolctl/internal/gitsrc"
	"github.com/enrolctl/enrolctl/internal/spec"
)

// specsDigest is a digest of what a plan is made from: every spec file the loader
// reads (path below the spec folder and content) and the configuration file. It does
// not depend on git, so a merge commit, a fast-forward and a squash of the reviewed
// branch all give the digest the merge request's plan recorded.
func (a *App) specsDigest(conn *siteConn) (string, error) {
	root := a.abs(conn.specsDir)
	fsys := os.DirFS(root)
	var files []string
	err := fs.WalkDir(fsys, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if p != "." && strings.HasPrefix(d.Name(), ".") {
			if d.IsDir() {
				return fs.SkipDir
			}
			return nil
		}
		if d.Type().IsRegular() && spec.IsSpecFile(p) && !(path.Dir(p) == "." && slices.Contains(config.Names, d.Name())) {
			files = append(files, p)
		}
		return nil
	})
	if err != nil {
		return "", fmt.Errorf("reading the spec folder for the plan's digest: %w", err)
	}
	slices.Sort(files)
	h := sha256.New()
	add := func(name string, data []byte) {
		fmt.Fprintf(h, "%s\x00%d\x00", name, len(data))
		h.Write(data)
	}
	for _, f := range files {
		data, err := fs.ReadFile(fsys, f)
		if err != nil {
			return "", fmt.Errorf("reading %s for the plan's digest: %w", f, err)
		}
		add("specs/"+f, data)
	}
	for _, name := range a.configFiles() {
		if data, err := os.ReadFile(name); err == nil {
			add("config/"+filepath.Base(name), data)
		}
	}
	return "sha256:" + hex.EncodeToString(h.Sum(nil)), nil
}

// configFiles are the configuration files that may apply (the one --config names, or
// the default names in the working directory).
func (a *App) configFiles() []string {
	if a.configPath != "" {
		return []string{a.abs(a.configPath)}
	}
	var out []string
	for _, n := range config.Names {
		out = append(out, a.abs(n))
	}
	return out
}

// checkReviewedSpecs refuses a saved plan made from other specs than the ones here:
// after a merge, the plan applied must be the one reviewed for the merged specs.
func (a *App) checkReviewedSpecs(conn *siteConn, file string, p diff.Plan) error {
	if p.SpecsDigest == "" {
		return nil
	}
	here, err := a.specsDigest(conn)
	if err != nil {
		return err
	}
	if here == p.SpecsDigest {
		return nil
	}
	where := ""
	if c, err := gitsrc.Head(a.abs(conn.specsDir)); err == nil && c.Hash != "" {
		where = " at commit " + shortHash(c.Hash)
	}
	planned := ""
	if p.Commit != "" {
		planned = " (commit " + shortHash(p.Commit) + ")"
	}
	return &exitError{code: 1, err: fmt.Errorf("%s was made from other specs%s than the ones here%s; nothing was applied. Apply the plan reviewed for these specs: plan again (enrolctl plan -out %s) and have it reviewed",
		file, planned, where, file)}
}

func shortHash(h string) string {
	if len(h) > 12 {
		return h[:12]
	}
	return h
}

// approvedInPlan lifts the removal limits for a saved plan that approved its removals
// (plan --allow-removals): the approval was in the reviewed plan, so the merged plan
// applies with no new flag. The audit record keeps it.
func approvedInPlan(a *App, file string, p diff.Plan, f applyFlags) applyFlags {
	if !p.Approvals.Removals || f.allowRemovals {
		return f
	}
	f.allowRemovals = true
	f.notes = append(f.notes, "removals approved at plan time ("+file+")")
	fmt.Fprintf(a.Out, "Removals approved at plan time in %s: the limits are lifted for this plan (never in protected courses).\n", file)
	return f
}
