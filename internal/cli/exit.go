package cli

import (
	"context"
	"errors"
	"fmt"
	"os"
	"syscall"

	"github.com/enrolctl/enrolctl/internal/diag"
	"github.com/enrolctl/enrolctl/internal/render"
	"github.com/enrolctl/enrolctl/internal/review"
	"github.com/enrolctl/enrolctl/internal/spec"
)

// The process exit codes. They are part of enrolctl's interface: CI jobs branch on 2.
const (
	exitOK      = 0 // success; for plan, also "no changes"
	exitFailure = 1 // anything went wrong, or a refusal
	exitChanges = 2 // plan --detailed-exitcode: the plan has changes or drift; expiring: some end soon
	// exitUnformatted: fmt --check found files not in the canonical layout (terraform
	// fmt -check's 3).
	exitUnformatted = 3
	// A command stopped by a signal exits as a shell reports a process the signal
	// killed: 128 + its number.
	exitInterrupted = 130 // SIGINT (Ctrl-C)
	exitTerminated  = 143 // SIGTERM (a CI job cancelled, a container stopped)
)

// signalError is the cause of a context cancelled by a signal (Main).
type signalError struct{ sig os.Signal }

func (e *signalError) Error() string { return fmt.Sprintf("interrupted (%s)", signalName(e.sig)) }

func signalName(s os.Signal) string {
	if s == syscall.SIGTERM {
		return "SIGTERM"
	}
	return "SIGINT"
}

// interruptedCode is the exit code of an apply that ctx stopped: 143 for SIGTERM, 130
// for SIGINT or a cancellation without a signal (tests, Ctrl-C at the prompt), and 1
// for the rest (the lease lost, the audit record failing).
func interruptedCode(ctx context.Context) int {
	cause := context.Cause(ctx)
	var se *signalError
	switch {
	case errors.As(cause, &se) && se.sig == syscall.SIGTERM:
		return exitTerminated
	case errors.As(cause, &se), cause == nil, errors.Is(cause, context.Canceled):
		return exitInterrupted
	}
	return exitFailure
}

// stoppedBySignal gives a command that Ctrl-C or SIGTERM stopped, with an error that
// is only the cancellation (a read given up), its exit code, 130 or 143, and says
// "interrupted (SIGINT)". apply reports its own stop; other errors are kept as they
// are (an audit record that failed exits 1 whatever the signal).
func stoppedBySignal(ctx context.Context, err error) error {
	var se *signalError
	if err != nil && errors.As(context.Cause(ctx), &se) && (errors.Is(err, context.Canceled) || errors.As(err, new(*signalError))) {
		return &exitError{code: interruptedCode(ctx), err: se}
	}
	return err
}

// errChanges ends a successful plan --detailed-exitcode that found changes or drift.
var errChanges = errors.New("the plan has changes or drift")

// diagnosticsError stops a run on diagnostics with at least one error. exitCode prints
// them, so every command reports them the same way.
type diagnosticsError struct {
	ds diag.Diagnostics
	// in names what was read: "the configuration", "the specs".
	in string
	// refused (apply's refusals, see refused) replaces the count line, and cause is the
	// refusal's typed error, when it has one.
	refused bool
	cause   error
}

func (e *diagnosticsError) Error() string {
	if e.refused {
		return fmt.Sprintf("apply refused (%d error(s)); nothing was applied", spec.ErrorCount(e.ds))
	}
	return fmt.Sprintf("%d error(s) in %s; nothing was planned or applied", spec.ErrorCount(e.ds), e.in)
}

func (e *diagnosticsError) Unwrap() error { return e.cause }

// refused turns a refusal of apply into diagnostics, as render words them. A
// diagnostic that names no file is placed in file (the saved plan), when there is one.
func refused(err error, file string) error {
	ds := render.Refused(err)
	for i := range ds {
		if ds[i].File == "" {
			ds[i].File = file
		}
	}
	return &diagnosticsError{ds: ds, refused: true, cause: err}
}

// exitError carries an exit code through cobra.
type exitError struct {
	code int
	err  error // nil when the message was already printed
}

func (e *exitError) Error() string {
	if e.err == nil {
		return fmt.Sprintf("exit %d", e.code)
	}
	return e.err.Error()
}

func (e *exitError) Unwrap() error { return e.err }

// errReported is an exit 1 whose message was already printed (results, doctor).
var errReported = &exitError{code: exitFailure}

// exitCode is the one place where errors become exit codes, and where the errors no
// command printed are printed.
func (a *App) exitCode(err error) int {
	var de *diagnosticsError
	var ee *exitError
	switch {
	case err == nil:
		return exitOK
	case errors.Is(err, errChanges):
		return exitChanges
	case errors.As(err, &de):
		a.printDiagnostics(de.ds)
		fmt.Fprintf(a.Err, "%s.\n", de.Error())
		return exitFailure
	case errors.As(err, &ee):
		if ee.err != nil {
			fmt.Fprintln(a.Err, "Error:", ee.err)
		}
		return ee.code
	}
	fmt.Fprintln(a.Err, "Error:", err)
	return exitFailure
}

// printDiagnostics writes diagnostics to stderr, each with its source line when known.
func (a *App) printDiagnostics(ds diag.Diagnostics) {
	ds = ds.WithSource(a.readFile)
	if a.maskLog {
		ds = review.MaskDiagnostics(ds)
	}
	for _, d := range ds {
		fmt.Fprintln(a.Err, d.Pretty())
	}
}
