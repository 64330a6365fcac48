package cli

import (
	"encoding/json"
	"fmt"
	"os"
	"path"
	"slices"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/enrolctl/enrolctl/internal/moodle"
)

// outputFlag checks -o against the formats a command writes.
func outputFlag(format string, allowed ...string) error {
	if !slices.Contains(allowed, format) {
		return fmt.Errorf("-o %s: want %s", format, strings.Join(allowed, " or "))
	}
	return nil
}

func (a *App) writeJSON(v any) error {
	enc := json.NewEncoder(a.Out)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// courseRow is one course as `enrolctl courses` lists it.
type courseRow struct {
	Shortname string `json:"shortname"`
	Fullname  string `json:"fullname"`
	Category  string `json:"category"`
	IDNumber  string `json:"idnumber"`
	Visible   bool   `json:"visible"`
	// Spec is the file that declares the course, "" when none does.
	Spec string `json:"spec"`
}

func (a *App) coursesCommand() *cobra.Command {
	var category, format string
	cmd := &cobra.Command{
		Use:   "courses [GLOB]",
		Short: "List the site's courses, with the spec that declares each",
		Long: `Courses lists the courses of the site (all, those of --category and its
subcategories, and those whose shortname matches GLOB): shortname, full name, category
path, ID number, visibility, and the spec file that declares the course ("-" when none).`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := outputFlag(format, "text", "json"); err != nil {
				return err
			}
			var globs []string
			if len(args) == 1 {
				if _, err := path.Match(args[0], ""); err != nil {
					return fmt.Errorf("%q: %v", args[0], err)
				}
				globs = args
			}
			conn, site, err := a.connectSite(cmd.Context())
			if err != nil {
				return err
			}
			specs := a.specFiles(conn, site)
			rows := []courseRow{}
			for _, r := range selectCatalogue(site.Catalogue, globs, category) {
				rows = append(rows, courseRow{Shortname: r.Shortname, Fullname: r.Fullname, Category: r.CategoryPath,
					IDNumber: r.IDNumber, Visible: r.Visible, Spec: specs[r.Shortname]})
			}
			if format == "json" {
				return a.writeJSON(rows)
			}
			tw := tabwriter.NewWriter(a.Out, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "SHORTNAME\tFULL NAME\tCATEGORY\tID NUMBER\tVISIBLE\tSPEC")
			for _, r := range rows {
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%v\t%s\n", r.Shortname, r.Fullname, dash(r.Category), dash(r.IDNumber), r.Visible, dash(r.Spec))
			}
			if err := tw.Flush(); err != nil {
				return err
			}
			fmt.Fprintf(a.Out, "\n%d course(s).\n", len(rows))
			return nil
		},
	}
	cmd.Flags().StringVar(&category, "category", "", "only the courses of this category path and its subcategories")
	cmd.Flags().StringVarP(&format, "output", "o", "text", "output format: text or json")
	return cmd
}

// specFiles maps the shortnames the site's specs declare to their files, when the
// spec folder exists and reads without errors (else none: listing courses must not
// depend on the specs being valid).
func (a *App) specFiles(conn *siteConn, site *moodle.Site) map[string]string {
	out := map[string]string{}
	if _, err := os.Stat(a.path(conn.specsDir)); err != nil {
		return out
	}
	set := a.loadSpecs(conn, siteRoleNames(site))
	if set.Diagnostics.HasErrors() {
		fmt.Fprintln(a.Err, "The specs have errors (see enrolctl validate); the SPEC column is left empty.")
		return out
	}
	for _, c := range set.Courses {
		out[c.Shortname] = c.File
	}
	return out
}

func (a *App) cohortsCommand() *cobra.Command {
	var format string
	cmd := &cobra.Command{
		Use:   "cohorts [GLOB]",
		Short: "List the site's cohorts",
		Long: `Cohorts lists the cohorts of the site with their ID number (what cohort methods in
specs name) and name. Cohorts without an ID number cannot be named in specs; they are
listed with "-".`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := outputFlag(format, "text", "json"); err != nil {
				return err
			}
			conn, err := a.connect()
			if err != nil {
				return err
			}
			all, err := conn.client.Cohorts(cmd.Context())
			if err != nil {
				return err
			}
			cohorts := []moodle.Cohort{}
			for _, c := range all {
				if len(args) == 1 {
					if ok, _ := path.Match(args[0], c.IDNumber); !ok {
						continue
					}
				}
				cohorts = append(cohorts, c)
			}
			slices.SortFunc(cohorts, func(x, y moodle.Cohort) int {
				return strings.Compare(x.IDNumber+"\x00"+x.Name, y.IDNumber+"\x00"+y.Name)
			})
			if format == "json" {
				return a.writeJSON(cohorts)
			}
			tw := tabwriter.NewWriter(a.Out, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "ID NUMBER\tNAME\tID")
			for _, c := range cohorts {
				fmt.Fprintf(tw, "%s\t%s\t%d\n", dash(c.IDNumber), c.Name, c.ID)
			}
			if err := tw.Flush(); err != nil {
				return err
			}
			fmt.Fprintf(a.Out, "\n%d cohort(s).\n", len(cohorts))
			return nil
		},
	}
	cmd.Flags().StringVarP(&format, "output", "o", "text", "output format: text or json")
	return cmd
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// siteRoleNames are the role shortnames the site has.
func siteRoleNames(site *moodle.Site) []string {
	var roles []string
	for _, r := range site.Status.Roles {
		roles = append(roles, r.Shortname)
	}
	return roles
}
