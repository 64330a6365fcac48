package contract

// Version is the number of the contract this enrolctl speaks (docs/contract.md,
// "Contract v2").
const Version = 2

// Plugin versions ($plugin->version of local_enrolctl) from which a function or
// service enrolctl uses exists.
const (
	// PluginV2 is Contract v2: local_enrolctl_write, leases, 500 courses per
	// get_course_state, users in course state. The oldest plugin enrolctl speaks to.
	PluginV2 int64 = 2026113000
	// PluginCourseStateJSON has local_enrolctl_get_course_state_json.
	PluginCourseStateJSON int64 = 2026113001
	// PluginUserIDs has local_enrolctl_get_user_ids.
	PluginUserIDs int64 = 2026113002
	// PluginReadService has the read-only service enrolctl_read.
	PluginReadService int64 = 2026113003
	// PluginCourseRows has local_enrolctl_get_course_rows: 5,000 course states a
	// call as positional rows.
	PluginCourseRows int64 = 2026113004
	// PluginPrivacy exports and deletes lease holders (privacy provider), ships
	// cli/create_role.php and requires Moodle 5.1; same functions as 2026113004.
	PluginPrivacy int64 = 2026120700
	// PluginLeasePrevious answers, when an acquire replaced an expired lease, whose it
	// was (previous, previous_expires), so that apply can say it took it over.
	PluginLeasePrevious int64 = 2026120701
	// PluginAccountsByID reads the users of courses by id from the rows it has already
	// read: the same answers, about twice as fast on PostgreSQL.
	PluginAccountsByID int64 = 2026120702
	// PluginRowsByName takes shortnames instead of course ids in get_course_rows, so
	// that a plan asks for the courses its specs name before the catalogue is read.
	PluginRowsByName int64 = 2026120703
	// PluginCoursesWithStatus answers get_site_status within get_courses (withstatus):
	// a plan reads the site in one request, and pays Moodle's bootstrap once.
	PluginCoursesWithStatus int64 = 2026120704
	// PluginRowsAsText reads the enrolments, role assignments and members of
	// get_course_rows as one string a row from the database: the same answers, with
	// half the PHP time.
	PluginRowsAsText int64 = 2026120705
	// PluginSiteWithRows answers get_course_rows within get_courses (shortnames): a
	// plan reads the site and its first courses in one request, and pays Moodle's
	// bootstrap of a request (about 170 ms of the site's CPU) once less.
	PluginSiteWithRows int64 = 2026120706
	// PluginRowsInDatabase has the database write each course's enrolments, role
	// assignments and members as one JSON text: the same answers, less of the site's
	// time per read.
	PluginRowsInDatabase int64 = 2026120707
	// PluginUsersByRange reads the users of a read's rows as a range of ids when they
	// fill at least half of it: the same answers, less of the database's time.
	PluginUsersByRange int64 = 2026120708
	// PluginPayloadWording words invalidpayload "Invalid payload" (it said "write" on
	// reads too), and keeps the catalogue's and a read by name's rule on hidden courses
	// in one place: nothing a client decides on.
	PluginPayloadWording int64 = 2026120709
	// PluginMetaLinks answers, in get_course_rows, the courses whose meta method links
	// to each course read (metalinks), so a plan can say where Moodle's meta sync
	// carries a removal.
	PluginMetaLinks int64 = 2026120710
)

// Plugin is one version of local_enrolctl: its $plugin->version and $plugin->release.
type Plugin struct {
	Version int64  `json:"version"`
	Release string `json:"release"`
}

// Plugins are the local_enrolctl versions this enrolctl works with, oldest first. The
// last is the plugin of this source tree (moodle/local_enrolctl/version.php): add a
// line here with every new plugin version.
var Plugins = []Plugin{
	{PluginV2, "2.0.0"},
	{PluginCourseStateJSON, "2.0.0"},
	{PluginUserIDs, "2.0.1"},
	{PluginReadService, "2.0.2"},
	{PluginCourseRows, "2.1.0"},
	{PluginPrivacy, "2.1.0"},
	{PluginLeasePrevious, "2.1.1"},
	{PluginAccountsByID, "2.1.2"},
	{PluginRowsByName, "2.2.0"},
	{PluginCoursesWithStatus, "2.3.0"},
	{PluginRowsAsText, "2.3.1"},
	{PluginSiteWithRows, "2.4.0"},
	{PluginRowsInDatabase, "2.5.0"},
	{PluginUsersByRange, "2.5.1"},
	{PluginPayloadWording, "2.5.2"},
	{PluginMetaLinks, "2.6.0"},
}

// Oldest is the oldest plugin this enrolctl speaks to.
func Oldest() Plugin { return Plugins[0] }

// Newest is the plugin shipped with this enrolctl: the one moodlesim plays and the
// release's plugin ZIP holds.
func Newest() Plugin { return Plugins[len(Plugins)-1] }
