package cli

import (
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/enrolctl/enrolctl/internal/render"
)

func (a *App) participantsCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "participants COURSE",
		Short: "List a course's participants as Moodle's Participants page shows them",
		Long: `Participants reads one course from Moodle and lists every enrolment: roles, groups,
method, status (Active, Suspended or Not current, computed as Moodle does) and dates in
the site's time zone. Nothing is written.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			conn, err := a.connect()
			if err != nil {
				return err
			}
			site, err := conn.client.ReadSite(cmd.Context())
			if err != nil {
				return err
			}
			if _, ok := site.CourseByName(args[0]); !ok {
				return fmt.Errorf("course %s does not exist on %s", args[0], conn.describe())
			}
			obs, err := conn.client.Observe(cmd.Context(), site, args, nil)
			if err != nil {
				return err
			}
			loc := conn.loc
			if loc == nil {
				loc, _ = time.LoadLocation(site.Status.TimeZone)
			}
			c, _ := obs.Course(args[0])
			return render.Participants(a.Out, *c, time.Now(), loc)
		},
	}
}
