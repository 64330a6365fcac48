package cli

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/enrolctl/enrolctl/internal/moodle"
)

// token names, in doctor's messages, the token a check is about: the site's only
// token, its read-only token, or apply's token when the site has both.
type token struct {
	name    string // "token", "read token", "apply token"
	fields  string // the configuration fields naming it
	service string // the service it must belong to
}

// functionNames are the functions of the token's service, as get_site_info lists them.
func functionNames(info moodle.SiteInfo) []string {
	var have []string
	for _, f := range info.Functions {
		have = append(have, f.Name)
	}
	return have
}

// writeService checks that the service of the token apply uses holds every function
// enrolctl calls.
func (c *check) writeService(tok token, have []string) {
	missing := absent(requiredFunctions, have)
	switch {
	case len(missing) > 0 && slices.Contains(have, "local_enrolctl_get_site_status") && !slices.Contains(have, "local_enrolctl_write"):
		// The plugin is there but the service writes nothing: a read-only token
		// configured as the one apply writes with.
		c.fail(fmt.Sprintf("the %s cannot write: its service lacks %s", tok.name, strings.Join(missing, ", ")),
			fmt.Sprintf("%s must name a token of the 'enrolctl' service (cli/create_token.php --service=enrolctl); a token of enrolctl_read goes in read_token_env/read_token_file", tok.fields))
	case len(missing) > 0:
		c.fail(fmt.Sprintf("the %s's service lacks %s", tok.name, strings.Join(missing, ", ")),
			"install or upgrade local_enrolctl (its upgrade re-syncs the enrolctl service), and create the token for the 'enrolctl' service")
	case tok.name == "token":
		c.ok("service holds all %d functions enrolctl needs", len(requiredFunctions))
	default:
		c.ok("%s's service holds all %d functions enrolctl needs", tok.name, len(requiredFunctions))
	}
}

// readService checks the service of the read-only token: it holds what commands that
// only read call, and nothing that writes. A read token that can write defeats its
// purpose (it reaches merge-request pipelines), so that is a failure, not a warning.
func (c *check) readService(have []string) {
	missing := absent(readFunctions, have)
	writes := slices.DeleteFunc(slices.Clone(requiredFunctions), func(f string) bool {
		return slices.Contains(readFunctions, f) || isVersioned(f) || !slices.Contains(have, f)
	})
	if len(writes) > 0 {
		c.fail("the read token can write: its service holds "+strings.Join(writes, ", "),
			"use a token of the enrolctl_read service (cli/create_token.php --service=enrolctl_read) in read_token_env/read_token_file")
	}
	if len(missing) > 0 {
		c.fail("the read token's service lacks "+strings.Join(missing, ", "),
			"install or upgrade local_enrolctl to 2026113003 or later (its upgrade syncs the enrolctl_read service), and create the read token for the 'enrolctl_read' service")
	}
	if len(writes) == 0 && len(missing) == 0 {
		c.ok("read token's service holds what plans read, and nothing that writes")
	}
}

// versioned checks the functions enrolctl calls from a plugin version on: a service
// that lacks them (not re-synced, or a site's own service) refuses every such call.
func (c *check) versioned(tok token, have []string, pluginVersion int64) {
	var lacking []string
	for _, f := range versionedFunctions {
		if pluginVersion >= f.version && !slices.Contains(have, f.name) {
			lacking = append(lacking, f.name)
		}
	}
	if len(lacking) > 0 {
		c.fail(fmt.Sprintf("the %s's service lacks %s", tok.name, strings.Join(lacking, ", ")),
			fmt.Sprintf("upgrade local_enrolctl again (admin/cli/upgrade.php re-syncs its services), and use a token of the '%s' service", tok.service))
	}
}

// absent are the functions of want that have lacks.
func absent(want, have []string) []string {
	return slices.DeleteFunc(slices.Clone(want), func(f string) bool { return slices.Contains(have, f) })
}

func isVersioned(name string) bool {
	return slices.ContainsFunc(versionedFunctions, func(f versionedFunction) bool { return f.name == name })
}

// doctorApplyToken checks the token apply writes with, when the site also has a read
// token (which the rest of doctor used). Where that token is not at hand (a
// merge-request job holds only the read token) the check is skipped, not failed.
func (a *App) doctorApplyToken(ctx context.Context, c *check, conn *siteConn, pluginVersion int64) {
	tok := token{name: "apply token", fields: "token_env/token_file", service: "enrolctl"}
	client, err := a.siteClient(conn.site, true)
	if err != nil {
		fmt.Fprintf(a.Out, "skip  apply token (not at hand here): %v\n", err)
		return
	}
	info, err := client.SiteInfo(ctx)
	if err != nil {
		c.fail("cannot call the site with the apply token: "+err.Error(), doctorFix(err, tok.fields))
		return
	}
	if what := siteInfoShape(info); what != "" {
		c.fail("the site's answer to core_webservice_get_site_info with the apply token is not Moodle's: "+what, "")
		return
	}
	c.ok("%s accepted: user %s", tok.name, info.Username)
	have := functionNames(info)
	c.writeService(tok, have)
	c.versioned(tok, have, pluginVersion)
}
