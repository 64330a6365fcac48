// Command enrolctl reconciles Moodle course enrolments with specs kept in git.
package main

import (
	"os"

	"github.com/enrolctl/enrolctl/internal/cli"
)

func main() {
	os.Exit(cli.Main(os.Args[1:], cli.StdStreams()))
}
