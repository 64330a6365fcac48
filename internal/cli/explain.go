package cli

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/enrolctl/enrolctl/internal/diag"
	"github.com/enrolctl/enrolctl/internal/diff"
	"github.com/enrolctl/enrolctl/internal/moodle"
	"github.com/enrolctl/enrolctl/internal/render"
	"github.com/enrolctl/enrolctl/internal/spec"
	"github.com/enrolctl/enrolctl/internal/state"
)

func (a *App) explainCommand() *cobra.Command {
	var format string
	cmd := &cobra.Command{
		Use:   "explain USER [COURSE]",
		Short: "Show a user's enrolments, the spec line owning each, and what the specs change",
		Long: `Explain answers "why does this user still have access?". For one user (a username),
it lists every live enrolment of the site (or of COURSE only): the course, the method
as plans name it, the status as Moodle's Participants page computes it (active,
suspended, not current), start and end in the plan's day convention, roles and groups,
and the spec or policy line (file:line:col) that owns it, or "not managed by any
spec". Then what the current specs would change for that user, worded as plan words
it, drift included. Nothing is written.

Without COURSE every course of the site is read, as a whole-site plan does: Moodle's
own per-user read (core_enrol_get_users_courses) lists active enrolments only, and
would hide the suspended and ended ones explain is asked about.

-o json writes a small versioned document (docs/cli.md).
Exit codes: 0 the user was found, 1 an unknown user or course, or an error (specs with
errors: the enrolments are listed, the changes are not known).`,
		Args: cobra.RangeArgs(1, 2),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := outputFlag(format, "text", "json"); err != nil {
				return err
			}
			course := ""
			if len(args) == 2 {
				course = args[1]
			}
			x, err := a.explain(cmd.Context(), args[0], course)
			if x == nil {
				return err
			}
			var werr error
			if format == "json" {
				werr = render.ExplainJSON(a.Out, *x)
			} else {
				werr = render.ExplainText(a.Out, *x)
			}
			if err != nil {
				return err
			}
			return werr
		},
	}
	cmd.Flags().StringVarP(&format, "output", "o", "text", "output format: text or json")
	return cmd
}

// explain reads what explain shows: the user's live enrolments in the courses read
// (COURSE, else every course of the site), each with its owner in the specs, and the
// plan of those courses filtered to the user. With spec errors it returns the
// explanation without changes and the diagnosticsError.
func (a *App) explain(ctx context.Context, user, course string) (*render.Explanation, error) {
	conn, site, specs, stopProgress, err := a.readSiteAndSpecs(ctx)
	if err != nil {
		return nil, err
	}
	defer stopProgress()
	desired := specs.Snapshot
	var courses []string
	if course != "" {
		if _, ok := site.CourseByName(course); !ok {
			return nil, notFound(fmt.Sprintf("course %s does not exist on %s", course, conn.describe()), course, catalogueNames(site))
		}
		courses = []string{course}
		var kept []state.Course
		for _, c := range desired.Courses {
			if c.Shortname == course {
				kept = append(kept, c)
			}
		}
		desired.Courses = kept
	} else {
		courses = catalogueNames(site)
	}
	observed, err := conn.client.Observe(ctx, site, courses, append(desired.Usernames(), user), moodle.NeedCohorts(desired.UsesCohorts()))
	stopProgress()
	if err != nil {
		return nil, err
	}
	if _, ok := observed.Directory.Users[user]; !ok {
		return nil, notFound(fmt.Sprintf("user %s does not exist on %s (explain takes a username)", user, conn.describe()), user, knownUsernames(desired, observed))
	}
	p := diff.ComputeWithOptions(desired, observed, a.diffOptions(conn, specs, diff.Provenance{Site: conn.name}))

	x := &render.Explanation{Site: conn.name, Where: conn.describe(), User: user, Course: course, Timezone: p.Timezone}
	now := time.Now()
	for _, c := range observed.Courses {
		d, _ := desired.Course(c.Shortname)
		for _, e := range c.EnrolmentsOf(user) {
			x.Enrolments = append(x.Enrolments, render.ExplainedEnrolmentOf(c, e, ownerOf(d, e), now, conn.loc))
		}
	}
	if p.Diagnostics.HasErrors() {
		x.SpecErrors = spec.ErrorCount(p.Diagnostics)
		return x, &diagnosticsError{ds: p.Diagnostics, in: "the specs"}
	}
	x.Changes = render.ExplainedChanges(userPlan(p, user))
	return x, nil
}

// userPlan is the part of p about one user: the changes and the drift of their
// enrolments and group memberships.
func userPlan(p diff.Plan, user string) diff.Plan {
	out := diff.Plan{FormatVersion: p.FormatVersion, Timezone: p.Timezone}
	for _, c := range p.Changes {
		if (c.Enrolment != nil && c.Enrolment.Username == user) || (c.Member != nil && c.Member.Username == user) {
			out.Changes = append(out.Changes, c)
		}
	}
	for _, d := range p.Drift {
		if d.Username() == user {
			out.Drift = append(out.Drift, d)
		}
	}
	return out
}

// ownerOf is the spec or policy line that owns a live enrolment in desired course d
// (nil: no spec selects the course): the user's line in the course's manual users,
// else the declared method whose sync or self-enrolment made it, else the policy's
// renew that selects it; none when none does.
func ownerOf(d *state.Course, e state.Enrolment) state.Source {
	if d == nil {
		return state.Source{}
	}
	for _, de := range d.Enrolments {
		if de.Method == e.Method && de.Username == e.Username { // the same Key, not built
			return de.Source
		}
	}
	if m, ok := d.Method(e.Method); ok && m.Type != state.Manual && !m.Absent {
		return m.Source
	}
	for _, r := range d.Renewals {
		if r.Selects(e) {
			return r.Source
		}
	}
	return state.Source{}
}

func catalogueNames(site *moodle.Site) []string {
	names := make([]string, len(site.Catalogue))
	for i, c := range site.Catalogue {
		names[i] = c.Shortname
	}
	return names
}

// knownUsernames are the usernames a near miss is looked for among: those the specs
// name and those enrolled in the courses read.
func knownUsernames(desired, observed state.Snapshot) []string {
	seen := map[string]bool{}
	var out []string
	add := func(u string) {
		if !seen[u] {
			seen[u] = true
			out = append(out, u)
		}
	}
	for _, u := range desired.Usernames() {
		add(u)
	}
	for _, c := range observed.Courses {
		for _, e := range c.Enrolments {
			add(e.Username)
		}
	}
	return out
}

// notFound is the error of a name explain cannot find, with the closest candidate as
// every diagnostic words its suggestion.
func notFound(msg, name string, candidates []string) error {
	return errors.New(diag.Diagnostic{Message: msg, Suggestion: diag.Suggest(name, candidates)}.Text())
}
