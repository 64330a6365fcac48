package cli

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/enrolctl/enrolctl/internal/config"
	"github.com/enrolctl/enrolctl/internal/diag"
	"github.com/enrolctl/enrolctl/internal/spec"
)

func (a *App) validateCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "validate",
		Short: "Check the specs without contacting Moodle",
		Long: `Validate reads the configuration, every course spec and policy of the site, and
reports every mistake as file:line:col: message (unknown fields, wrong types, bad dates,
unknown roles, duplicate methods or courses). Checks that need the live site (unknown
courses, users and cohorts, the site's own roles, policies selecting by category)
happen at plan time. With several sites, it checks every site's specs unless --site
(or ENROLCTL_SITE) names one.

Exit codes: 0 valid (warnings may be printed), 1 errors.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := a.readConfig()
			if err != nil {
				return err
			}
			sites := cfg.Sites
			if name := a.siteChosen(); name != "" {
				site, err := cfg.Select(name)
				if err != nil {
					return err
				}
				sites = []*config.Site{site}
			}
			var errs, warns diag.Diagnostics
			var lines []string
			for _, site := range sites {
				conn := &siteConn{name: site.Name, site: site, specsDir: site.SpecsDir, loc: site.Location}
				set := a.loadSpecs(conn, nil)
				courses, ds := spec.Check(set, nil)
				if ds.HasErrors() {
					errs = append(errs, ds...)
					continue
				}
				warns = append(warns, ds...)
				line := fmt.Sprintf("%d course(s), %d policy file(s), %d file(s) read", courses, len(set.Policies), len(set.Files))
				if len(sites) > 1 {
					line = fmt.Sprintf("site %s: %s (%s)", site.Name, line, a.rel(a.path(site.SpecsDir)))
				}
				lines = append(lines, line)
			}
			if errs.HasErrors() {
				// Another site's warnings still matter: printed with the errors, in order.
				return &diagnosticsError{ds: append(errs, warns...).Sort(), in: "the specs"}
			}
			a.printDiagnostics(warns.Sort())
			if len(sites) == 1 {
				fmt.Fprintf(a.Out, "The specs are valid: %s.\n", lines[0])
				return nil
			}
			fmt.Fprintf(a.Out, "The specs of the %d sites are valid:\n", len(sites))
			for _, l := range lines {
				fmt.Fprintf(a.Out, "  %s\n", l)
			}
			return nil
		},
	}
}
