package moodlesim

import (
	"crypto/md5"
	"encoding/hex"
	"strings"
)

// core_webservice: core_webservice_get_site_info.

func getSiteInfo(c *ctx, _ args) (any, *wsError) {
	type fn struct {
		Name    string `json:"name"`
		Version string `json:"version"`
	}
	fns := make([]fn, 0)
	for _, name := range serviceFunctions(c.service) {
		if !c.s.hasFunction(name) {
			continue // newer than the plugin the site plays
		}
		v := moodleVersion
		if strings.HasPrefix(name, "local_enrolctl_") {
			v = itoa(c.s.pluginOf().Version)
		}
		fns = append(fns, fn{name, v})
	}
	u := c.user
	type feature struct {
		Name  string `json:"name"`
		Value int    `json:"value"`
	}
	// The enable/disable settings get_site_info reports, at their install defaults.
	features := []feature{{"usecomments", 1}, {"usetags", 1}, {"enablenotes", 1}, {"messaging", 1}, {"enableblogs", 1},
		{"enablecompletion", 1}, {"enablebadges", 1}, {"messagingallusers", 0}, {"enablecustomreports", 1},
		{"enableglobalsearch", 0}, {"mnet_dispatcher_mode", 0}, {"enablecompetencies", 1}}
	quota := int64(104857600) // $CFG->userquota; admins hold moodle/user:ignoreuserquota
	if u.SiteAdmin {
		quota = 0
	}
	return struct {
		SiteName              string    `json:"sitename"`
		Username              string    `json:"username"`
		Firstname             string    `json:"firstname"`
		Lastname              string    `json:"lastname"`
		Fullname              string    `json:"fullname"`
		Lang                  string    `json:"lang"`
		UserID                int64     `json:"userid"`
		SiteURL               string    `json:"siteurl"`
		UserPictureURL        string    `json:"userpictureurl"`
		Functions             []fn      `json:"functions"`
		DownloadFiles         int       `json:"downloadfiles"`
		UploadFiles           int       `json:"uploadfiles"`
		Release               string    `json:"release"`
		Version               string    `json:"version"`
		MobileCSSURL          string    `json:"mobilecssurl"`
		AdvancedFeatures      []feature `json:"advancedfeatures"`
		UserCanManage         bool      `json:"usercanmanageownfiles"`
		UserQuota             int64     `json:"userquota"`
		UserMaxUpload         int64     `json:"usermaxuploadfilesize"`
		UserHomePage          int       `json:"userhomepage"`
		UserPrivateAccessKey  string    `json:"userprivateaccesskey"`
		SiteID                int64     `json:"siteid"`
		SiteCalendar          string    `json:"sitecalendartype"`
		UserCalendar          string    `json:"usercalendartype"`
		UserIsSiteAdmin       bool      `json:"userissiteadmin"`
		Theme                 string    `json:"theme"`
		LimitConcurrentLogins int       `json:"limitconcurrentlogins"`
		PolicyAgreed          int       `json:"policyagreed"`
	}{c.d().Config.SiteName, u.Username, u.Firstname, u.Lastname, fullname(u), "en", u.ID, c.siteURL,
		c.siteURL + "/theme/image.php/boost/core/1/u/f1", fns, 0, 0, moodleRelease, moodleVersion, "", features, true,
		quota, -1, 1, userPrivateAccessKey(c.d().Config.SiteName, u.ID), SiteCourseID, "gregorian", "gregorian",
		u.SiteAdmin, "boost", 0, 0}, nil
}

// userPrivateAccessKey stands for get_user_key('core_files', $userid): 32 alphanumeric
// characters, the same on every call for a user. It is derived, not random, so the
// simulator stays deterministic; it grants nothing here.
func userPrivateAccessKey(site string, userID int64) string {
	sum := md5.Sum([]byte("core_files:" + site + ":" + itoa(userID)))
	return hex.EncodeToString(sum[:])
}
