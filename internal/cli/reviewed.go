package cli

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/enrolctl/enrolctl/internal/config"
	"github.com/enrolctl/enrolctl/internal/diff"
	"github.com/enrolctl/enrolctl/internal/gitsrc"
	"github.com/enrolctl/enrolctl/internal/review"
	"github.com/enrolctl/enrolctl/internal/spec"
)

// specsDigest is the digest a plan records and apply checks: the spec files exactly as
// the loader read them (spec.Set.Digest) and the configuration file. It does not depend
// on git, so a merge commit, a fast-forward, a rebase and a squash of the reviewed
// branch, and a shallow clone of any of them, all give the digest the merge request's
// plan recorded; a plan from an unmerged or reverted branch does not.
func (a *App) specsDigest(set *spec.Set) string {
	h := sha256.New()
	fmt.Fprintf(h, "specs\x00%s\x00", set.Digest)
	for _, name := range a.configFiles() {
		if data, err := os.ReadFile(name); err == nil {
			fmt.Fprintf(h, "config/%s\x00%d\x00", filepath.Base(name), len(data))
			h.Write(data)
		}
	}
	return "sha256:" + hex.EncodeToString(h.Sum(nil))
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

// checkReviewedSpecs refuses a saved plan unless it was made from exactly the specs
// apply re-plans from (here): after a merge, the plan applied must be the one reviewed
// for the merged specs, whatever the merge strategy; a plan from another branch, a
// reverted commit or an edited file is refused, and so is one without a digest.
func (a *App) checkReviewedSpecs(conn *siteConn, file string, p diff.Plan, here string) error {
	if p.SpecsDigest == "" {
		return refused(fmt.Errorf("the plan file records no specs digest, so nothing binds it to the specs it was made from; nothing was applied. Plan again (enrolctl plan -out %s) and have it reviewed", file), file)
	}
	if here == p.SpecsDigest {
		return nil
	}
	dir := a.abs(conn.specsDir)
	where := ""
	if c, err := gitsrc.Head(dir); err == nil && c.Hash != "" {
		where = " (commit " + review.ShortHash(c.Hash) + ")"
	}
	planned := ""
	if p.Commit != "" {
		planned = " at commit " + review.ShortHash(p.Commit)
		if p.Dirty {
			planned += " with uncommitted changes"
		}
	}
	why := ""
	if changed, _ := gitsrc.ChangedFiles(dir); len(changed) > 0 {
		const show = 10
		why = fmt.Sprintf(". The specs here have uncommitted changes: %s", strings.Join(changed[:min(show, len(changed))], ", "))
		if n := len(changed) - show; n > 0 {
			why += fmt.Sprintf(" and %d more", n)
		}
	}
	return refused(fmt.Errorf("the plan was made from other specs%s than the ones checked out here%s%s; nothing was applied. Apply only the plan reviewed for these specs: plan again (enrolctl plan -out %s) and have it reviewed",
		planned, where, why, file), file)
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
