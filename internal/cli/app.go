package cli

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"sync/atomic"
	"syscall"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"golang.org/x/term"

	"github.com/enrolctl/enrolctl/internal/apply"
)

// Streams are the standard streams a command uses.
type Streams struct {
	In       io.Reader
	Out, Err io.Writer
	// Terminal reports whether In and Out are an interactive terminal (confirmation
	// prompts, progress bars, colour).
	Terminal bool
}

// StdStreams are the process's standard streams.
func StdStreams() Streams {
	tty := term.IsTerminal(int(os.Stdin.Fd())) && term.IsTerminal(int(os.Stdout.Fd()))
	return Streams{In: os.Stdin, Out: os.Stdout, Err: os.Stderr, Terminal: tty}
}

// App holds what every command needs.
type App struct {
	Streams
	// Getenv reads the environment (tokens, CI variables).
	Getenv func(string) string
	// Dir is the working directory commands resolve paths against.
	Dir string

	// Global flags.
	configPath string
	chdir      string // -chdir DIR: run as if started in DIR
	siteName   string
	noColor    bool
	courses    []string // --course: plan and apply only these courses (globs)
	// changedSince (plan --changed-since REF): only courses whose specs changed since REF.
	changedSince string
	// showUnmanaged (plan, apply --show-unmanaged): list what is left alone.
	showUnmanaged bool
	// expandPlan (plan, apply --expand): one text line per change, none collapsed.
	expandPlan bool
	// approveRemovals (plan --allow-removals): the plan approves its removals.
	approveRemovals bool

	// maskLog: the job runs in CI and the site masks usernames (mask_usernames), so
	// the diagnostics printed to the job log mask them too, did-you-means included.
	maskLog bool

	// writes is set while a command that writes to Moodle runs (writesMoodle): it
	// connects with the site's token rather than its read-only one.
	writes bool

	// stateDir is the folder of enrolctl's state (sandboxDir in the configuration's
	// folder), relative to Dir; set by loadConfig.
	stateDir string

	// loaded is what loadConfig read in this run, which it reads once.
	loaded *loadedConfig

	// errRaw is stderr redacted but not escaped, for the progress bar, which draws
	// with \r (set for a run by redactStreams).
	errRaw io.Writer

	// reading counts what a plan reads from the site, for its progress line (progress.go).
	reading atomic.Pointer[readProgress]

	// atExit runs when the command ends (releasing the sandbox lock).
	atExit []func() error

	// Test hooks: openAudit opens the audit file (a disk that fills up), and
	// leaseHolderGone replaces apply.HolderGone (a killed process).
	openAudit       func(path string) (apply.AuditFile, error)
	leaseHolderGone func(apply.Holder) bool
}

// Main runs enrolctl with args and returns the process exit code.
func Main(args []string, s Streams) int {
	wd, err := os.Getwd()
	if err != nil {
		fmt.Fprintln(s.Err, "enrolctl:", err)
		return exitFailure
	}
	app := &App{Streams: s, Getenv: os.Getenv, Dir: wd}
	// SIGINT and SIGTERM cancel the context, the signal its cause: apply finishes the
	// write in flight (or gives it up after a grace period), completes its audit record
	// and exits 130 or 143. A second signal kills as usual.
	ctx, cancel := context.WithCancelCause(context.Background())
	defer cancel(nil)
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	defer signal.Stop(sigs)
	go func() {
		if sig, ok := <-sigs; ok {
			signal.Reset(os.Interrupt, syscall.SIGTERM)
			cancel(&signalError{sig: sig})
		}
	}()
	return app.RunContext(ctx, args)
}

// Run executes one command line and maps its error to an exit code.
func (a *App) Run(args []string) int { return a.RunContext(context.Background(), args) }

// RunContext is Run with a context whose cancellation interrupts the command.
func (a *App) RunContext(ctx context.Context, args []string) int {
	a.loaded = nil // an App may run several command lines (tests)
	// Every byte printed passes the redactor, which holds every secret loaded.
	a.holdEnvSecrets()
	restore := a.redactStreams()
	defer restore()
	root := a.rootCommand()
	root.SetArgs(terraformFlags(root, args))
	root.SetIn(a.In)
	root.SetOut(a.Out)
	root.SetErr(a.Err)
	err := root.ExecuteContext(ctx)
	for _, f := range a.atExit {
		_ = f()
	}
	a.atExit = nil
	return a.exitCode(stoppedBySignal(ctx, err))
}

func (a *App) rootCommand() *cobra.Command {
	root := &cobra.Command{
		Use:   "enrolctl",
		Short: "Declarative, reviewed enrolment management for Moodle courses",
		Long: `enrolctl reconciles Moodle course enrolments with specs kept in git.

Specs (YAML or HCL, one file per course, plus policy files) declare each course's
enrolment methods, manual enrolments, roles, end dates and groups. "enrolctl plan"
shows what would change in Moodle; "enrolctl apply" makes it so, and never removes
what no spec owns. With no site configured, commands run against a sandbox Moodle.`,
		SilenceUsage:  true,
		SilenceErrors: true,
		// Which token the command connects with is a property of the command
		// (site.go, writesMoodle), read here once for whichever command runs.
		PersistentPreRunE: func(cmd *cobra.Command, _ []string) error {
			a.writes = commandWrites(cmd)
			return a.changeDir()
		},
	}
	root.PersistentFlags().StringVar(&a.chdir, "chdir", "", "run as if enrolctl was started in this folder")
	root.PersistentFlags().StringVar(&a.configPath, "config", "", "configuration file (default: $ENROLCTL_CONFIG, else enrolctl.yaml or enrolctl.hcl in the current folder or the nearest folder above it)")
	root.PersistentFlags().StringVar(&a.siteName, "site", "", "site to use, from the configuration's sites")
	root.PersistentFlags().BoolVar(&a.noColor, "no-color", false, "never colour output")
	// apply is the one command that writes enrolments (unlock frees its lease): they
	// alone connect with the site's token; the others use its read-only token when it
	// names one (site.go).
	root.AddCommand(a.validateCommand(), a.planCommand(), writesMoodle(a.applyCommand()), a.sandboxCommand(), a.doctorCommand(), a.importCommand(), a.participantsCommand(), a.coursesCommand(), a.cohortsCommand(), a.expiringCommand(), a.commentCommand(), a.fetchPlanCommand(), a.versionCommand())
	// The first steps and reading saved plans (cobra lists commands by name).
	root.AddCommand(a.initCommand(), a.showCommand(), a.fmtCommand(), a.explainCommand())
	root.AddCommand(writesMoodle(a.unlockCommand()))
	versionFlag(root)
	return root
}

// changeDir applies -chdir: every relative path of the command line, of the
// environment (ENROLCTL_CONFIG) and the configuration search start from DIR.
func (a *App) changeDir() error {
	if a.chdir == "" {
		return nil
	}
	dir := a.path(a.chdir)
	if st, err := os.Stat(dir); err != nil || !st.IsDir() {
		return fmt.Errorf("-chdir %s: not a folder", a.chdir)
	}
	a.Dir = dir
	return nil
}

// color reports whether output may be coloured: on a terminal that can show it
// (TERM=dumb cannot), unless --no-color or NO_COLOR (no-color.org) says no.
func (a *App) color() bool {
	return a.Terminal && !a.noColor && a.Getenv("NO_COLOR") == "" && a.Getenv("TERM") != "dumb"
}

// terraformFlags accepts Terraform's single-dash spelling of every long flag
// (-auto-approve, -detailed-exitcode, -no-color, -out=FILE, -chdir=DIR), which users
// of Terraform type from habit, as the double-dash one. Only names of enrolctl's long
// flags are rewritten, so shorthands (-o json) keep their meaning, and nothing after
// "--" is touched.
func terraformFlags(root *cobra.Command, args []string) []string {
	long := map[string]bool{}
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		for _, fs := range []*pflag.FlagSet{c.Flags(), c.PersistentFlags()} {
			fs.VisitAll(func(f *pflag.Flag) { long[f.Name] = true })
		}
		for _, sub := range c.Commands() {
			walk(sub)
		}
	}
	walk(root)
	long["help"] = true
	out := make([]string, len(args))
	rest := false
	for i, a := range args {
		if a == "--" {
			rest = true
		}
		name, _, _ := strings.Cut(strings.TrimPrefix(a, "-"), "=")
		if !rest && strings.HasPrefix(a, "-") && !strings.HasPrefix(a, "--") && len(name) > 1 && long[name] {
			a = "-" + a
		}
		out[i] = a
	}
	return out
}
