package cli

import (
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/enrolctl/enrolctl/internal/moodle"
	"github.com/enrolctl/enrolctl/internal/state"
)

// expiringRow is one manual enrolment whose access ends soon.
type expiringRow struct {
	Course   string   `json:"course"`
	Category string   `json:"category"`
	Username string   `json:"username"`
	Fullname string   `json:"fullname"`
	Roles    []string `json:"roles"`
	End      string   `json:"end"`
	EndUnix  int64    `json:"end_unix"`
}

var windowPattern = regexp.MustCompile(`^(\d+)\s*(d|w|h)$`)

// parseWindow reads a window such as 30d, 2w or 12h.
func parseWindow(s string) (time.Duration, error) {
	m := windowPattern.FindStringSubmatch(strings.TrimSpace(s))
	if m == nil {
		return 0, fmt.Errorf("--within %q: use a number of days (30d), weeks (2w) or hours (12h)", s)
	}
	n, _ := strconv.Atoi(m[1])
	unit := map[string]time.Duration{"d": 24 * time.Hour, "w": 7 * 24 * time.Hour, "h": time.Hour}[m[2]]
	return time.Duration(n) * unit, nil
}

func (a *App) expiringCommand() *cobra.Command {
	var within, category, format string
	cmd := &cobra.Command{
		Use:   "expiring --within 30d",
		Short: "List the manual enrolments whose access ends soon, site-wide",
		Long: `Expiring reads every course of the site (or of --category and its subcategories) and
lists the active manual enrolments whose end date falls between now and the end of the
window, soonest first. For a scheduled job: exit 0 when there are none, 2 when there
are some (1 on errors).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := outputFlag(format, "text", "json"); err != nil {
				return err
			}
			window, err := parseWindow(within)
			if err != nil {
				return err
			}
			conn, site, err := a.connectSite(cmd.Context())
			if err != nil {
				return err
			}
			loc, _ := conn.location(site)
			refs := selectCatalogue(site.Catalogue, nil, category)
			ids := make([]int64, len(refs))
			for i, r := range refs {
				ids[i] = r.ID
			}
			now := time.Now()
			limit := now.Add(window).Unix()
			rows := []expiringRow{}
			err = conn.client.EachCourseState(cmd.Context(), ids, 0, func(i int, cs *moodle.CourseState) error {
				rows = append(rows, expiringIn(cs, refs[i].CategoryPath, now.Unix(), limit, loc)...)
				return nil
			})
			if err != nil {
				return err
			}
			slices.SortFunc(rows, func(x, y expiringRow) int {
				if x.EndUnix != y.EndUnix {
					return int(x.EndUnix - y.EndUnix)
				}
				return strings.Compare(x.Course+"\x00"+x.Username, y.Course+"\x00"+y.Username)
			})
			if format == "json" {
				if err := a.writeJSON(rows); err != nil {
					return err
				}
			} else {
				if err := a.expiringText(rows, within); err != nil {
					return err
				}
			}
			if len(rows) > 0 {
				return &exitError{code: exitChanges}
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&within, "within", "30d", "the window: days (30d), weeks (2w) or hours (12h) from now")
	cmd.Flags().StringVar(&category, "category", "", "only the courses of this category path and its subcategories")
	cmd.Flags().StringVarP(&format, "output", "o", "text", "output format: text or json")
	return cmd
}

// expiringIn lists a course's active manual enrolments that end in (now, limit].
func expiringIn(cs *moodle.CourseState, category string, now, limit int64, loc *time.Location) []expiringRow {
	c := moodle.ToCourse(*cs)
	manual, _ := c.Method(string(state.Manual))
	if !manual.Enabled {
		return nil // a disabled method gives no access to lose
	}
	var rows []expiringRow
	var names map[string]string // built only for the few courses that have a row
	for _, e := range c.Enrolments {
		if e.Method != string(state.Manual) || e.Suspended || e.End == 0 || e.End <= now || e.End > limit {
			continue
		}
		if names == nil {
			names = make(map[string]string, len(cs.Users))
			for _, u := range cs.Users {
				names[u.Username] = strings.TrimSpace(u.Firstname + " " + u.Lastname)
			}
		}
		rows = append(rows, expiringRow{Course: c.Shortname, Category: category, Username: e.Username,
			Fullname: names[e.Username], Roles: e.Roles, End: state.FormatEnd(e.End, loc), EndUnix: e.End})
	}
	return rows
}

func (a *App) expiringText(rows []expiringRow, within string) error {
	if len(rows) == 0 {
		fmt.Fprintf(a.Out, "No manual enrolment ends within %s.\n", within)
		return nil
	}
	tw := tabwriter.NewWriter(a.Out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "END\tCOURSE\tUSERNAME\tNAME\tROLES")
	courses := map[string]bool{}
	for _, r := range rows {
		courses[r.Course] = true
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", r.End, r.Course, r.Username, dash(r.Fullname), dash(strings.Join(r.Roles, ", ")))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	_, err := fmt.Fprintf(a.Out, "\n%d manual enrolment(s) in %d course(s) end within %s.\n", len(rows), len(courses), within)
	return err
}
