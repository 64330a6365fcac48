package cli

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/enrolctl/enrolctl/internal/contract"
	"github.com/enrolctl/enrolctl/internal/moodle"
)

// requiredFunctions are the web-service functions the enrolctl service must hold.
var requiredFunctions = []string{
	"local_enrolctl_get_site_status", "local_enrolctl_get_courses", "local_enrolctl_get_course_state",
	"local_enrolctl_add_instances", "local_enrolctl_update_instances", "local_enrolctl_delete_instances",
	"local_enrolctl_set_enrolments", "local_enrolctl_unenrol_users",
	"local_enrolctl_write", "local_enrolctl_acquire_lease", "local_enrolctl_release_lease",
	"core_webservice_get_site_info", "core_user_get_users_by_field", "core_cohort_search_cohorts",
	"core_group_create_groups", "core_group_add_group_members", "core_group_delete_group_members",
}

// readFunctions are the functions every command that only reads calls, which the
// read-only enrolctl_read service holds (plugin 2026113003) besides the read functions
// of versionedFunctions. Every other function of requiredFunctions writes.
var readFunctions = []string{
	"local_enrolctl_get_site_status", "local_enrolctl_get_courses", "local_enrolctl_get_course_state",
	"core_webservice_get_site_info", "core_user_get_users_by_field", "core_cohort_search_cohorts",
}

// minPluginVersion is the oldest local_enrolctl this enrolctl speaks to: Contract v2,
// whose local_enrolctl_write and leases apply uses.
const minPluginVersion = contract.PluginV2

// The plugin versions from which enrolctl reads course state through
// courseStateJSONFunction, looks usernames up through userIDsFunction (Contract v2)
// and reads course state as positional rows through courseRowsFunction, which its
// service must then hold.
const (
	courseStateJSONVersion  = contract.PluginCourseStateJSON
	courseStateJSONFunction = "local_enrolctl_get_course_state_json"
	userIDsVersion          = contract.PluginUserIDs
	userIDsFunction         = "local_enrolctl_get_user_ids"
	courseRowsVersion       = contract.PluginCourseRows
	courseRowsFunction      = "local_enrolctl_get_course_rows"
)

type versionedFunction struct {
	version int64
	name    string
}

// versionedFunctions are the functions enrolctl calls once the plugin is at least
// version: an older plugin lacks them, and enrolctl then does without.
var versionedFunctions = []versionedFunction{
	{courseStateJSONVersion, courseStateJSONFunction},
	{userIDsVersion, userIDsFunction},
	{courseRowsVersion, courseRowsFunction},
}

// minMoodleVersion is Moodle 4.5 LTS.
const minMoodleVersion = 2024100700

func (a *App) doctorCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "doctor",
		Short: "Check the site's URL, token, plugin, service and enrolment plugins",
		Long: `Doctor checks, one by one, everything enrolctl needs from a site: the URL and
protocol, the token, the Moodle version, the local_enrolctl plugin and its version,
every function the enrolctl service must hold, and the enrolment plugins the specs
use. It says what to fix for each failure.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return a.doctor(cmd.Context())
		},
	}
}

type check struct {
	a      *App
	failed int
}

func (c *check) ok(format string, args ...any) { fmt.Fprintf(c.a.Out, "ok    "+format+"\n", args...) }
func (c *check) warn(what, fix string) {
	fmt.Fprintf(c.a.Out, "WARN  %s\n      fix: %s\n", what, fix)
}

func (c *check) fail(what, fix string) {
	c.failed++
	fmt.Fprintf(c.a.Out, "FAIL  %s\n", what)
	if fix != "" {
		fmt.Fprintf(c.a.Out, "      fix: %s\n", fix)
	}
}

func (a *App) doctor(ctx context.Context) error {
	c := &check{a: a}
	conn, err := a.connect()
	if err != nil {
		c.fail(err.Error(), "") // configuration errors say what to fix themselves
		if de := (*diagnosticsError)(nil); errors.As(err, &de) {
			return err // exitCode prints the diagnostics
		}
		return errReported
	}
	c.ok("site %s: %s", conn.name, conn.describe())
	info, err := conn.client.SiteInfo(ctx)
	if err != nil {
		if conn.readOnly {
			c.fail("cannot call the site with the read token: "+err.Error(), doctorFix(err, "read_token_env/read_token_file"))
		} else {
			c.fail("cannot call the site: "+err.Error(), doctorFix(err, "token_env/token_file"))
		}
		return errReported
	}
	// Anything answering JSON at the endpoint (a proxy, another application, `{}`)
	// decodes without error: only Moodle's fields prove that Moodle took the token.
	if what := siteInfoShape(info); what != "" {
		c.fail("the site's answer to core_webservice_get_site_info is not Moodle's: "+what,
			"check the site URL: it must be Moodle's wwwroot, and nothing else (a proxy, a login page) may answer at /webservice/rest/server.php")
		return errReported
	}
	tok := token{name: "token", fields: "token_env/token_file", service: "enrolctl"}
	if conn.readOnly {
		tok = token{name: "read token", fields: "read_token_env/read_token_file", service: "enrolctl_read"}
	}
	c.ok("%s accepted: user %s on %q (Moodle %s)", tok.name, info.Username, info.SiteName, info.Release)
	if conn.sandbox == nil && strings.TrimRight(info.SiteURL, "/") != conn.client.SiteURL() {
		c.warn(fmt.Sprintf("Moodle's wwwroot is %s, the configuration says %s", info.SiteURL, conn.client.SiteURL()),
			fmt.Sprintf("set url: %s for site %s: Moodle redirects other addresses, and enrolctl refuses redirects", info.SiteURL, conn.name))
	}
	if v := moodleVersion(info.Version); v != 0 && v < minMoodleVersion {
		c.fail(fmt.Sprintf("Moodle version %s is older than 4.5 LTS", info.Version), "upgrade Moodle to 4.5 or later")
	}
	have := functionNames(info)
	if conn.readOnly {
		c.readService(have)
	} else {
		c.writeService(tok, have)
	}
	st, err := conn.client.SiteStatus(ctx)
	if err != nil {
		c.fail("local_enrolctl does not answer: "+err.Error(), "install local_enrolctl in public/local/enrolctl and run admin/cli/upgrade.php")
		return errReported
	}
	if what := siteStatusShape(st); what != "" {
		c.fail("local_enrolctl's answer to get_site_status is not the plugin's: "+what,
			"install or upgrade local_enrolctl and check that the site URL is Moodle's wwwroot")
		return errReported
	}
	if st.PluginVersion < minPluginVersion {
		c.fail(fmt.Sprintf("local_enrolctl %s (%d) is older than this enrolctl needs (%d)", st.PluginRelease, st.PluginVersion, minPluginVersion),
			"upgrade local_enrolctl to the version shipped with this enrolctl")
	} else {
		c.ok("local_enrolctl %s (%d) on Moodle %s", st.PluginRelease, st.PluginVersion, st.MoodleRelease)
		if st.PluginVersion < contract.PluginMetaLinks {
			c.warn(fmt.Sprintf("local_enrolctl %s does not name the courses linking to a course by meta: a plan cannot say which of them a removal reaches", st.PluginRelease),
				"upgrade local_enrolctl to the version shipped with this enrolctl ("+contract.Newest().Release+")")
		}
	}
	c.versioned(tok, have, st.PluginVersion)
	if conn.readOnly {
		a.doctorApplyToken(ctx, c, conn, st.PluginVersion)
	}
	if conn.site.Timezone != "" && st.TimeZone != "" && conn.site.Timezone != st.TimeZone {
		c.warn(fmt.Sprintf("the configuration's timezone %s differs from the site's default time zone %s: spec dates are whole days in %s",
			conn.site.Timezone, st.TimeZone, conn.site.Timezone),
			fmt.Sprintf("set timezone: %s for site %s if the site's days are meant (Site administration > General > Location > Location settings)", st.TimeZone, conn.name))
	} else if st.TimeZone != "" {
		c.ok("time zone %s", st.TimeZone)
	}
	used, err := a.methodsUsed(conn)
	if err != nil {
		fmt.Fprintf(a.Out, "skip  enrolment plugins used by the specs: %v\n", err)
	}
	for _, t := range used {
		if t.CheckOnly() || slices.Contains(st.EnabledPlugins, string(t)) {
			c.ok("enrolment plugin %s is enabled", t)
			continue
		}
		c.fail(fmt.Sprintf("the specs use the %s method but enrol_%s is disabled on the site", t, t),
			fmt.Sprintf("enable it in Site administration > Plugins > Enrolments > Manage enrol plugins, or remove the %s methods from the specs", t))
	}
	if c.failed > 0 {
		fmt.Fprintf(a.Out, "\n%d check(s) failed.\n", c.failed)
		return errReported
	}
	fmt.Fprintln(a.Out, "\nAll checks passed.")
	return nil
}

// siteInfoShape says what Moodle's get_site_info answer lacks, or "".
func siteInfoShape(info moodle.SiteInfo) string {
	return lacking([]answerField{{info.UserID <= 0, "userid"}, {info.Username == "", "username"},
		{info.SiteURL == "", "siteurl"}, {moodleVersion(info.Version) == 0, "version"}})
}

// siteStatusShape says what local_enrolctl_get_site_status's answer lacks, or "".
func siteStatusShape(st moodle.SiteStatus) string {
	return lacking([]answerField{{st.PluginVersion <= 0, "pluginversion"}, {st.MoodleVersion == "", "moodleversion"},
		{len(st.EnabledPlugins) == 0, "enabled enrolment plugins"}, {len(st.Roles) == 0, "roles"}})
}

// answerField is a field of an answer, and whether the answer lacks it.
type answerField struct {
	missing bool
	name    string
}

// lacking names the fields missing ("no userid, no version"), or "".
func lacking(fields []answerField) string {
	var missing []string
	for _, f := range fields {
		if f.missing {
			missing = append(missing, "no "+f.name)
		}
	}
	return strings.Join(missing, ", ")
}

// doctorFix says what to fix for a failed call; fields are the configuration fields
// naming the token the call used.
func doctorFix(err error, fields string) string {
	switch moodle.Code(err) {
	case "invalidtoken":
		return "the token is not known to this site: create one with local_enrolctl's cli/create_token.php and store it where " + fields + " points"
	case "accessexception":
		return "the token's user lacks local/enrolctl:manage or webservice/rest:use, the service is disabled, or the token expired or is IP-restricted (docs/moodle-setup.md)"
	}
	if errors.Is(err, moodle.ErrRedirect) {
		return "set the site's url to Moodle's wwwroot exactly ($CFG->wwwroot in config.php): scheme, host and path"
	}
	if strings.Contains(err.Error(), "disabled") {
		return "enable web services and the REST protocol in Site administration"
	}
	return "check the site URL (it must be the wwwroot, reachable from here) and the network"
}

func moodleVersion(v string) int64 {
	var n int64
	for _, r := range v {
		if r < '0' || r > '9' {
			break
		}
		n = n*10 + int64(r-'0')
	}
	return n
}
