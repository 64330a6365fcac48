package cli

import (
	"fmt"

	"github.com/spf13/cobra"

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
happen at plan time.

Exit codes: 0 valid (warnings may be printed), 1 errors.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			site, err := a.loadConfig()
			if err != nil {
				return err
			}
			conn := &siteConn{name: site.Name, site: site, specsDir: site.SpecsDir, loc: site.Location}
			set := a.loadSpecs(conn, nil)
			courses, ds := spec.Resolve(set, nil)
			if ds.HasErrors() {
				return &diagnosticsError{ds: ds, in: "the specs"}
			}
			a.printDiagnostics(ds)
			fmt.Fprintf(a.Out, "The specs are valid: %d course(s), %d policy file(s), %d file(s) read.\n", len(courses), len(set.Policies), len(set.Files))
			return nil
		},
	}
}
