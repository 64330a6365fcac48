package cli

import (
	"fmt"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/enrolctl/enrolctl/internal/sandbox"
)

// sandboxDir is where enrolctl keeps its state (the sandbox, the default audit log), in
// the configuration's folder (App.stateDir), never inside the specs.
const sandboxDir = ".enrolctl"

func (a *App) sandboxCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "sandbox",
		Short: "Manage the sandbox Moodle used when no site is configured",
	}
	cmd.AddCommand(&cobra.Command{
		Use:   "reset",
		Short: "Restore the sandbox to the demo site",
		Long: `Reset throws away the sandbox's state (.enrolctl/sandbox.json) and restores the demo
site: about 30 courses in three faculties, 1,200 students and teachers, cohorts per
promotion, database-synced courses, expired and suspended manual enrolments.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			// The sandbox of the configuration in effect, wherever it is found from here.
			if _, err := a.loadConfig(); err != nil && a.stateDir == "" {
				return err
			}
			sb, err := sandbox.Reset(a.path(a.stateDir))
			if err != nil {
				return err
			}
			fmt.Fprintf(a.Out, "Sandbox reset to the demo site (%s).\n", a.rel(sb.Path()))
			return nil
		},
	})
	return cmd
}

// path resolves a path given on the command line or in the configuration against
// the working directory.
func (a *App) path(p string) string {
	if filepath.IsAbs(p) {
		return p
	}
	return filepath.Join(a.Dir, p)
}

// rel shows path relative to the working directory when it is inside it.
func (a *App) rel(path string) string {
	if r, err := filepath.Rel(a.Dir, path); err == nil && !strings.HasPrefix(r, "..") {
		return r
	}
	return path
}
