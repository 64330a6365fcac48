package cli

import (
	"fmt"
	"strings"
	"time"

	"github.com/enrolctl/enrolctl/internal/config"
	"github.com/enrolctl/enrolctl/internal/render"
)

// freezeSoon is how far ahead the comment warns of a freeze window.
const freezeSoon = 14 * 24 * time.Hour

// reviewHeader is what the comment says above the plan besides the plan itself: the
// site's freeze windows in force now or starting soon, since a plan merged then will
// wait for the window's end.
func reviewHeader(site *config.Site, now time.Time) string {
	var lines []string
	for _, w := range site.Freeze {
		switch {
		case w.Contains(now):
			lines = append(lines, fmt.Sprintf("> **Freeze:** apply is refused until %s (freeze window %s); a plan merged before then waits for it to end.", render.MarkdownText(w.Until), render.MarkdownCode(w.Name)))
		case w.Start.After(now) && w.Start.Sub(now) <= freezeSoon:
			lines = append(lines, fmt.Sprintf("> **Freeze ahead:** apply will be refused from %s to %s (freeze window %s).", w.Start.In(site.Location).Format(time.DateOnly), render.MarkdownText(w.Until), render.MarkdownCode(w.Name)))
		}
	}
	return strings.Join(lines, "\n>\n")
}
