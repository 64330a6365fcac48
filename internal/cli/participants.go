package cli

import (
	"fmt"
	"slices"
	"time"

	"github.com/spf13/cobra"

	"github.com/enrolctl/enrolctl/internal/moodle"
	"github.com/enrolctl/enrolctl/internal/render"
)

func (a *App) participantsCommand() *cobra.Command {
	var f render.Filter
	var format string
	cmd := &cobra.Command{
		Use:   "participants COURSE",
		Short: "List a course's participants as Moodle's Participants page shows them",
		Long: `Participants reads one course from Moodle and lists its participants, one row per
user as Moodle's Participants page does: full name, username, ID number, email, roles,
groups, each enrolment method with its status, the user's status (Active, Suspended or
Not current, computed as Moodle does), last access to the course and when access ends,
in the site's time zone. Nothing is written.

Filters combine: --role student --status suspended --method cohort --group "Promo 2026".
-o json gives one object per user; -o csv a header and one line per user.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if !slices.Contains([]string{"text", "json", "csv"}, format) {
				return fmt.Errorf("-o %s: want text, json or csv", format)
			}
			if f.Status != "" && !slices.Contains(render.ParticipantStatuses, f.Status) {
				return fmt.Errorf("--status %s: want active, suspended or not-current", f.Status)
			}
			conn, site, err := a.connectSite(cmd.Context())
			if err != nil {
				return err
			}
			ref, ok := site.CourseByName(args[0])
			if !ok {
				return fmt.Errorf("course %s does not exist on %s", args[0], conn.describe())
			}
			states, err := conn.client.CourseStates(cmd.Context(), []int64{ref.ID})
			if err != nil {
				return err
			}
			loc, _ := conn.location(site)
			course := moodle.ToCourse(states[0])
			ps := render.ParticipantsOf(course, userInfos(states[0].Users), f, time.Now(), loc)
			switch format {
			case "json":
				return render.ParticipantsJSON(a.Out, ps)
			case "csv":
				return render.ParticipantsCSV(a.Out, ps)
			}
			return render.ParticipantsText(a.Out, course.Shortname, ps)
		},
	}
	cmd.Flags().StringVar(&f.Role, "role", "", "only users holding this role (shortname)")
	cmd.Flags().StringVar(&f.Status, "status", "", "only users with this status: active, suspended or not-current")
	cmd.Flags().StringVar(&f.Method, "method", "", "only users enrolled by this method (a type such as cohort, or a method key)")
	cmd.Flags().StringVar(&f.Group, "group", "", "only members of this group")
	cmd.Flags().StringVarP(&format, "output", "o", "text", "output format: text, json or csv")
	return cmd
}

// userInfos indexes the users a course state lists (Contract v2) by username. A plugin
// of Contract v1 lists none: names, emails and last access then show as "-" and never.
func userInfos(us []moodle.CourseUser) map[string]render.UserInfo {
	out := make(map[string]render.UserInfo, len(us))
	for _, u := range us {
		out[u.Username] = render.UserInfo{Firstname: u.Firstname, Lastname: u.Lastname, Email: u.Email,
			IDNumber: u.IDNumber, LastCourseAccess: u.LastCourseAccess}
	}
	return out
}
