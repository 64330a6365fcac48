package cli

import (
	"fmt"
	"os"
	"time"

	"github.com/spf13/cobra"

	"github.com/enrolctl/enrolctl/internal/spec"
)

func (a *App) importCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "import",
		Short: "Turn files from other tools into specs",
	}
	cmd.AddCommand(&cobra.Command{
		Use:   "csv FILE",
		Short: "Add the enrolments of a CSV in Moodle's upload-users format to the specs",
		Long: `Import reads a CSV file in Moodle's upload-users format (username, firstname,
lastname, email, course1, role1, group1, enrolperiod1, enrolstatus1, course2, ...)
and writes its enrolments into the site's specs: users are added to (or updated in)
the manual section of each course's spec, and a course without a spec gets a new file.

Enrolment periods become dates now, at import time, so that the plan made from the
specs does not change from one day to the next. Review the result with plan.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			site, err := a.loadConfig()
			if err != nil {
				return err
			}
			f, err := os.Open(a.path(args[0]))
			if err != nil {
				return err
			}
			defer f.Close()
			adds, ds := spec.ReadUploadUsers(args[0], f, time.Now(), site.Location, site.Roles)
			a.printDiagnostics(ds)
			if ds.HasErrors() {
				return errReported
			}
			dir := a.path(site.SpecsDir)
			set := spec.LoadDir(dir, spec.Options{Location: site.Location, Roles: site.Roles})
			if set.Diagnostics.HasErrors() {
				a.printDiagnostics(set.Diagnostics)
				return errReported
			}
			files, err := spec.WriteAdditions(set, dir, adds)
			if err != nil {
				return err
			}
			for _, f := range files {
				fmt.Fprintf(a.Out, "wrote %s\n", a.rel(f))
			}
			fmt.Fprintf(a.Out, "Imported %d enrolment(s) from %s into %d spec file(s). Review them with: enrolctl plan\n", len(adds), args[0], len(files))
			return nil
		},
	})
	cmd.AddCommand(a.importMoodleCommand())
	return cmd
}
