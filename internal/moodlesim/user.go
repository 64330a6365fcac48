package moodlesim

import (
	"cmp"
	"fmt"
	"net/mail"
	"regexp"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"
)

// core_user: users, their details and lookups (core_user_get_users_by_field, core_user_create_users).

func fullname(u User) string { return u.Firstname + " " + u.Lastname }

type userDetails struct {
	ID                   int64   `json:"id"`
	Username             string  `json:"username"`
	Firstname            string  `json:"firstname"`
	Lastname             string  `json:"lastname"`
	Fullname             string  `json:"fullname"`
	Email                string  `json:"email"`
	Department           string  `json:"department"`
	IDNumber             string  `json:"idnumber,omitempty"`
	FirstAccess          int64   `json:"firstaccess"`
	LastAccess           int64   `json:"lastaccess"`
	Auth                 string  `json:"auth"`
	Suspended            bool    `json:"suspended"`
	Confirmed            bool    `json:"confirmed"`
	Lang                 string  `json:"lang"`
	Theme                string  `json:"theme"`
	Timezone             string  `json:"timezone"`
	MailFormat           int     `json:"mailformat"`
	TrackForums          int     `json:"trackforums"`
	Description          *string `json:"description,omitempty"`
	DescriptionFormat    *int    `json:"descriptionformat,omitempty"`
	ProfileImageURLSmall string  `json:"profileimageurlsmall"`
	ProfileImageURL      string  `json:"profileimageurl"`
}

func (c *ctx) details(u User) userDetails {
	auth := cmp.Or(u.Auth, "manual")
	// user_get_user_details sends description (and its format) only when it is not NULL.
	var format *int
	if u.Description != nil {
		format = new(1) // FORMAT_HTML
	}
	return userDetails{u.ID, u.Username, u.Firstname, u.Lastname, fullname(u), u.Email, "", u.IDNumber, 0, 0, auth,
		u.Suspended, true, "en", "", "99", 1, 0, u.Description, format,
		c.siteURL + "/theme/image.php/boost/core/1/u/f2", c.siteURL + "/theme/image.php/boost/core/1/u/f1"}
}

var usernameRE = regexp.MustCompile(`[^-\.@_a-z0-9]`)

// cleanUsername is clean_param(PARAM_USERNAME).
func cleanUsername(v string) string {
	return usernameRE.ReplaceAllString(strings.ToLower(strings.TrimSpace(v)), "")
}

func getUsersByField(c *ctx, a args) (any, *wsError) {
	field := a.str("field")
	values := a.strs("values")
	var clean func(string) string
	switch field {
	case "id":
		clean = func(v string) string {
			if n, err := cleanValue(pInt, v); err == nil {
				return itoa(n.(int64))
			}
			return "0"
		}
	case "username":
		clean = cleanUsername
	case "email":
		clean = strings.TrimSpace
	case "idnumber":
		clean = func(v string) string { return v }
	default:
		return nil, &wsError{Exception: exCoding, ErrorCode: "codingerror",
			Message:   "Coding error detected, it must be fixed by a programmer: invalid field parameter",
			DebugInfo: "The search field '" + field + "' is not supported, look at the web service documentation"}
	}
	want := map[string]bool{}
	for _, v := range values {
		if cv := clean(v); cv != v {
			return nil, invalidParam(fmt.Sprintf("The field '%s' value is invalid: %s(cleaned value: %s)", field, v, cv))
		}
		want[v] = true
	}
	d := c.d()
	var users []User
	// By id and username through the indexes; e-mail and idnumber scan, as the
	// unindexed columns do in Moodle.
	candidates := d.Users
	if field == "id" || field == "username" {
		candidates = map[int64]User{}
		for v := range want {
			var u User
			var ok bool
			if field == "username" {
				u, ok = d.userByUsername(v)
			} else {
				n, _ := cleanValue(pInt, v)
				id, _ := n.(int64)
				u, ok = d.Users[id]
			}
			if ok {
				candidates[u.ID] = u
			}
		}
	}
	for _, u := range candidates {
		// Deleted users are never returned (user_get_user_details gives null).
		if u.Deleted {
			continue
		}
		var key string
		switch field {
		case "id":
			key = itoa(u.ID)
		case "username":
			key = u.Username
		case "email":
			key = u.Email
		case "idnumber":
			key = u.IDNumber
		}
		if want[key] {
			users = append(users, u)
		}
	}
	slices.SortFunc(users, func(x, y User) int { return cmpID(x.ID, y.ID) })
	out := make([]userDetails, 0, len(users))
	for _, u := range users {
		out = append(out, c.details(u))
	}
	return out, nil
}

func createUsers(c *ctx, a args) (any, *wsError) {
	d := c.d()
	if err := c.require("moodle/user:create"); err != nil {
		return nil, err
	}
	type created struct {
		ID       int64  `json:"id"`
		Username string `json:"username"`
	}
	out := make([]created, 0)
	for _, it := range a.list("users") {
		username := it.str("username")
		if _, ok := d.userByUsername(username); ok {
			return nil, invalidParam("Username already exists: " + username)
		}
		auth := it.str("auth")
		if auth == "mnet" || auth == "webservice" || !slices.Contains([]string{"manual", "nologin", "email", "ldap", "cas", "shibboleth", "oauth2", "db"}, auth) {
			return nil, invalidParam("Invalid authentication type: " + auth)
		}
		if it.str("password") == "" && !it.bool("createpassword") {
			return nil, invalidParam("Invalid password: you must provide a password, or set createpassword.")
		}
		email := it.str("email")
		if addr, err := mail.ParseAddress(email); err != nil || addr.Address != email {
			return nil, invalidParam("Email address is invalid: " + email)
		}
		for _, u := range d.Users {
			if !u.Deleted && strings.EqualFold(u.Email, email) {
				return nil, invalidParam("Email address already exists: " + email)
			}
		}
		if username != strings.ToLower(username) {
			return nil, moodleErr("usernamelowercase", nil)
		}
		if username == "" || cleanUsername(username) != username {
			return nil, &wsError{Exception: exMoodle, ErrorCode: "invalidusername", Message: "The username can only contain alphanumeric lowercase characters (letters and numbers), underscore (_), hyphen (-), period (.) or at symbol (@)."}
		}
		if !it.bool("createpassword") {
			if msg := passwordPolicy(it.str("password")); msg != "" {
				// user_create_user throws new moodle_exception($errmsg): the errorcode is the
				// message itself, which no string file has.
				return nil, &wsError{Exception: exMoodle, ErrorCode: msg, Message: "error/" + msg}
			}
		}
		u := User{ID: d.next("user"), Username: username, Firstname: it.str("firstname"), Lastname: it.str("lastname"),
			Email: email, IDNumber: it.str("idnumber"), Auth: auth}
		d.putUser(u)
		out = append(out, created{u.ID, u.Username})
	}
	return out, nil
}

// passwordPolicy is check_password_policy() with Moodle's default policy: at least 8
// characters, a digit, a lower and an upper case letter and a special character.
func passwordPolicy(pw string) string {
	var digits, lower, upper, other int
	for _, r := range pw {
		switch {
		case unicode.IsDigit(r):
			digits++
		case unicode.IsLower(r):
			lower++
		case unicode.IsUpper(r):
			upper++
		default:
			other++
		}
	}
	var msg strings.Builder
	if utf8.RuneCountInString(pw) < 8 {
		msg.WriteString("<div>Passwords must be at least 8 characters long.</div>")
	}
	if digits < 1 {
		msg.WriteString("<div>Passwords must have at least 1 digit(s).</div>")
	}
	if lower < 1 {
		msg.WriteString("<div>Passwords must have at least 1 lower case letter(s).</div>")
	}
	if upper < 1 {
		msg.WriteString("<div>Passwords must have at least 1 upper case letter(s).</div>")
	}
	if other < 1 {
		msg.WriteString("<div>Passwords must have at least 1 special character(s) such as as *, -, or #.</div>")
	}
	return msg.String()
}
