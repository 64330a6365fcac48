package cli

import (
	"context"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/enrolctl/enrolctl/internal/adopt"
	"github.com/enrolctl/enrolctl/internal/moodle"
	"github.com/enrolctl/enrolctl/internal/safefile"
	"github.com/enrolctl/enrolctl/internal/spec"
)

func (a *App) importCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "import",
		Short: "Turn files from other tools, or the live site, into specs",
	}
	cmd.AddCommand(&cobra.Command{
		Use:   "csv FILE",
		Short: "Add the enrolments of a CSV in Moodle's upload-users format to the specs",
		Long: `Import reads a CSV file in Moodle's upload-users format (username, firstname,
lastname, email, course1, role1, group1, enrolperiod1, enrolstatus1, course2, ...)
and writes its enrolments into the site's specs: users are added to (or updated in)
the manual section of each course's spec, and a course without a spec gets a new file
where import moodle would put it (by category path).

The file may be separated by commas, semicolons or tabs, start with a BOM, end lines
with CRLF, and be UTF-8 or Windows-1252/Latin-1 (converted). Courses and users the
site does not have are reported with their CSV line before anything is written.
Enrolment periods become dates now, at import time, so that the plan made from the
specs does not change from one day to the next; a row without a period has no end
date, as in Moodle. Review the result with plan.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error { return a.importCSV(cmd.Context(), args[0]) },
	})
	cmd.AddCommand(a.importMoodleCommand())
	return cmd
}

func (a *App) importCSV(ctx context.Context, name string) error {
	conn, site, err := a.connectSite(ctx)
	if err != nil {
		return err
	}
	loc, err := conn.location(site)
	if err != nil {
		return err
	}
	f, err := safefile.Open(a.path(name), maxCSVSize, "CSV file")
	if err != nil {
		return err
	}
	defer f.Close()
	adds, ds := spec.ReadUploadUsers(name, f, time.Now(), loc, conn.site.Roles)
	if !ds.HasErrors() {
		facts, err := csvSiteFacts(ctx, conn.client, site, adds)
		if err != nil {
			return err
		}
		ds = append(ds, spec.CheckAdditions(name, adds, facts)...)
	}
	a.printDiagnostics(ds)
	if ds.HasErrors() {
		return errReported
	}
	dir := a.path(conn.specsDir)
	set := &spec.Set{}
	if _, err := os.Stat(dir); err == nil {
		conn.loc = loc
		set = a.loadSpecs(conn, siteRoleNames(site))
		if set.Diagnostics.HasErrors() {
			a.printDiagnostics(set.Diagnostics)
			return errReported
		}
		// loadSpecs gives paths relative to the working directory; the writer needs real ones.
		for _, c := range set.Courses {
			c.File = a.path(c.File)
		}
	}
	place := func(course string) string {
		ref, _ := site.CourseByName(course)
		return adopt.Path(dir, ref.CategoryPath, course)
	}
	files, err := spec.WriteAdditions(set, dir, adds, place)
	if err != nil {
		return err
	}
	for _, f := range files {
		fmt.Fprintf(a.Out, "wrote %s\n", a.rel(f))
	}
	fmt.Fprintf(a.Out, "Imported %d enrolment(s) from %s into %d spec file(s). Review them with: enrolctl plan\n", len(adds), name, len(files))
	return nil
}

// csvSiteFacts looks up the courses and users a CSV names: the catalogue, the
// usernames (in batches), and for unknown usernames the accounts that have the row's
// email, to suggest the right username.
func csvSiteFacts(ctx context.Context, client *moodle.Client, site *moodle.Site, adds []spec.Addition) (spec.SiteFacts, error) {
	facts := spec.SiteFacts{Users: map[string]bool{}, ByEmail: map[string]string{}}
	for _, r := range site.Catalogue {
		facts.Courses = append(facts.Courses, r.Shortname)
	}
	var names []string
	for _, ad := range adds {
		names = append(names, ad.Username)
	}
	found, err := client.UserIDs(ctx, names)
	if err != nil {
		return facts, err
	}
	var emails []string
	for _, ad := range adds {
		if _, ok := found[ad.Username]; ok {
			facts.Users[ad.Username] = true
		} else if ad.Email != "" && !slices.Contains(emails, ad.Email) {
			emails = append(emails, ad.Email)
		}
	}
	for start := 0; start < len(emails); start += 200 {
		form := &moodle.Form{}
		form.Set("field", "email")
		for i, e := range emails[start:min(start+200, len(emails))] {
			form.Set("values["+strconv.Itoa(i)+"]", e)
		}
		var users []struct {
			Username string `json:"username"`
			Email    string `json:"email"`
		}
		if err := client.Call(ctx, "core_user_get_users_by_field", form, &users); err != nil {
			return facts, err
		}
		for _, u := range users {
			facts.ByEmail[strings.ToLower(u.Email)] = u.Username
		}
	}
	return facts, nil
}

// maxCSVSize caps the CSV import reads: 100,000 upload-users rows are about 10 MB.
const maxCSVSize = 256 << 20
