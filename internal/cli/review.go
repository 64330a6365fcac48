package cli

import (
	"fmt"
	"strings"
	"time"

	"github.com/enrolctl/enrolctl/internal/config"
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
			lines = append(lines, fmt.Sprintf("> **Freeze:** apply is refused until %s (freeze window %q); a plan merged before then waits for it to end.", w.Until, w.Name))
		case w.Start.After(now) && w.Start.Sub(now) <= freezeSoon:
			lines = append(lines, fmt.Sprintf("> **Freeze ahead:** apply will be refused from %s to %s (freeze window %q).", w.Start.In(site.Location).Format(time.DateOnly), w.Until, w.Name))
		}
	}
	return strings.Join(lines, "\n>\n")
}
