package cli

import (
	"cmp"
	"fmt"
	"runtime"
	"runtime/debug"
	"strings"

	"github.com/spf13/cobra"

	"github.com/enrolctl/enrolctl/internal/contract"
)

// The release build sets these with -ldflags (.goreleaser.yaml):
//
//	-X github.com/enrolctl/enrolctl/internal/cli.Version=0.3.0
//	-X github.com/enrolctl/enrolctl/internal/cli.Commit=<full commit>
//	-X github.com/enrolctl/enrolctl/internal/cli.Date=<build time, RFC 3339>
//
// A build from source leaves them empty: the version, commit and commit time then come
// from the build information Go records in the binary (module version, vcs.revision,
// vcs.time, vcs.modified).
var Version, Commit, Date string

// versionInfo is what `enrolctl version` prints: how the binary was built and which
// plan documents and Moodle plugins it works with.
type versionInfo struct {
	Version string `json:"version"`
	// Release is true for a release build (-ldflags), false for a build from source.
	Release bool   `json:"release"`
	Commit  string `json:"commit"`
	// Modified: built from a working tree with uncommitted changes.
	Modified   bool   `json:"modified"`
	CommitTime string `json:"commit_time,omitempty"`
	BuildDate  string `json:"build_date,omitempty"`
	Go         string `json:"go"`
	Platform   string `json:"platform"`
	PlanFormat string `json:"plan_format"`
	Contract   int    `json:"contract"`
	// Plugin: the oldest local_enrolctl this enrolctl speaks to, and the one it ships.
	Plugin struct {
		Oldest  contract.Plugin `json:"oldest"`
		Shipped contract.Plugin `json:"shipped"`
	} `json:"plugin"`
}

// readVersion gathers the version of the running binary.
func readVersion() versionInfo {
	bi, _ := debug.ReadBuildInfo()
	return versionFrom(bi, Version, Commit, Date)
}

// versionFrom prefers what the release build injected and falls back on Go's build
// information, so that a binary built from a checkout still names its commit.
func versionFrom(bi *debug.BuildInfo, version, commit, date string) versionInfo {
	v := versionInfo{
		Version: version, Release: version != "", Commit: commit, BuildDate: date,
		Go: runtime.Version(), Platform: runtime.GOOS + "/" + runtime.GOARCH,
		PlanFormat: planFormat, Contract: contract.Version,
	}
	v.Plugin.Oldest, v.Plugin.Shipped = contract.Oldest(), contract.Newest()
	if bi != nil {
		if bi.GoVersion != "" {
			v.Go = bi.GoVersion
		}
		v.Version = cmp.Or(v.Version, bi.Main.Version)
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				v.Commit = cmp.Or(v.Commit, s.Value)
			case "vcs.time":
				v.CommitTime = s.Value
			case "vcs.modified":
				v.Modified = s.Value == "true"
			}
		}
	}
	v.Version = cmp.Or(v.Version, "(devel)")
	v.Commit = cmp.Or(v.Commit, "unknown")
	return v
}

func (v versionInfo) text() string {
	var b strings.Builder
	fmt.Fprintf(&b, "enrolctl %s\n", v.Version)
	row := func(k, val string) { fmt.Fprintf(&b, "  %-13s %s\n", k+":", val) }
	commit := v.Commit
	if commit == "unknown" {
		commit += " (Go stamps the commit when it builds in a git checkout without -buildvcs=false)"
	}
	if v.Modified {
		commit += " (modified)"
	}
	row("commit", commit)
	if v.CommitTime != "" {
		row("commit time", v.CommitTime)
	}
	if v.BuildDate != "" {
		row("built", v.BuildDate)
	}
	if !v.Release {
		row("built from", "source (not a release)")
	}
	row("go", v.Go+" "+v.Platform)
	row("plan format", v.PlanFormat)
	row("contract", fmt.Sprintf("v%d (docs/contract.md)", v.Contract))
	row("plugin", fmt.Sprintf("local_enrolctl %s (%d) or later; ships %s (%d)",
		v.Plugin.Oldest.Release, v.Plugin.Oldest.Version, v.Plugin.Shipped.Release, v.Plugin.Shipped.Version))
	return b.String()
}

func (a *App) versionCommand() *cobra.Command {
	var format string
	cmd := &cobra.Command{
		Use:   "version",
		Short: "Print enrolctl's version, commit and the plugin versions it works with",
		Long: `Version prints the release (or, built from source, the module version), the
commit and its time, the build date, the Go version, the plan format enrolctl reads
and writes, the contract version and the local_enrolctl plugin versions it works
with. "enrolctl --version" prints the same.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := outputFlag(format, "text", "json"); err != nil {
				return err
			}
			v := readVersion()
			if format == "json" {
				return a.writeJSON(v)
			}
			_, err := fmt.Fprint(a.Out, v.text())
			return err
		},
	}
	cmd.Flags().StringVarP(&format, "output", "o", "text", "output format: text or json")
	return cmd
}

// versionFlag gives the root command -v/--version, printing what `enrolctl version`
// does. Not cobra's own (Command.Version): its text would be a text/template, and a
// binary that links text/template keeps every exported method of every type (the
// linker cannot tell which one a template calls): a third more binary, 2 to 4 MB more
// memory in every run. The root command runs nothing, so cobra answers it with its
// help function: --version is answered there, --help still winning over it as with
// cobra's flag.
func versionFlag(root *cobra.Command) {
	var show bool
	root.Flags().BoolVarP(&show, "version", "v", false, "version for "+root.Name())
	// As cobra marks its own: completion then offers nothing after --version.
	_ = root.Flags().SetAnnotation("version", cobra.FlagSetByCobraAnnotation, []string{"true"})
	help := root.HelpFunc()
	root.SetHelpFunc(func(c *cobra.Command, args []string) {
		if asked, _ := c.Flags().GetBool("help"); c == root && show && !asked {
			fmt.Fprint(c.OutOrStdout(), readVersion().text())
			return
		}
		help(c, args)
	})
}
