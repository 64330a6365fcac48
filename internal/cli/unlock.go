package cli

import (
	"cmp"
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/enrolctl/enrolctl/internal/apply"
)

// unlockCommand is `enrolctl unlock LEASE_ID`, Terraform's force-unlock: it frees the
// site's apply lease held under that id (a run's id, named by the refusal, the warning
// of an apply that could not release it, and the audit record's start line).
func (a *App) unlockCommand() *cobra.Command {
	var auditLog string
	cmd := &cobra.Command{
		Use:   "unlock LEASE_ID",
		Short: "Free the site's apply lease of an apply that is gone",
		Long: `Unlock frees the site's apply lease held under LEASE_ID, when the apply that holds
it is gone but could not release it: its runner was killed on another host, or its
release failed while the site was down. The id is the run's: the refusal of the next
apply names it, and so do the warning of the apply that could not release it and the
"lease" of its audit record's start line.

A lease held under another id is left alone. A lease whose holder ran on this host
and is no longer running needs no unlock: the next apply takes it over, and a lease
nobody renews expires after 2 minutes.

Unlock appends an "unlock" line to the site's audit log (who, which lease, when, and
what came of it); the log is opened before the site is asked, and a lease is not
freed when it cannot be.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			conn, err := a.connect()
			if err != nil {
				return err
			}
			if conn.sandbox != nil {
				return errors.New("the sandbox has no apply lease (its file lock is released when its process ends): nothing to unlock")
			}
			path := cmp.Or(auditLog, conn.auditLog)
			audit, err := apply.OpenUnlockAudit(a.path(path))
			if err != nil {
				return &exitError{code: exitFailure, err: fmt.Errorf("%w; nothing was unlocked (unlock frees nothing it cannot record)", err)}
			}
			prov := a.provenance(conn)
			run := apply.NewRunID()
			as := apply.ThisProcess(prov.Actor, run, "unlock").String()
			res, err := apply.Unlock(cmd.Context(), conn.client, args[0], as)
			line := apply.AuditUnlock{Run: run, Provenance: prov, Site: conn.name, SiteURL: conn.urlForAudit(),
				Lease: args[0], LeaseHolder: res.Holder, Outcome: res.Outcome}
			if err != nil && line.Outcome == "" {
				line.Outcome, line.Error = "failed", err.Error()
			}
			if aerr := audit.Record(line); aerr != nil {
				if err == nil {
					fmt.Fprintln(a.Out, res.Message)
					return &exitError{code: exitFailure, err: fmt.Errorf("%w: this unlock is not recorded", aerr)}
				}
				fmt.Fprintf(a.Err, "Warning: %v: this attempt is not recorded\n", aerr)
			}
			if err != nil {
				return &exitError{code: exitFailure, err: fmt.Errorf("site %q: %w", conn.name, err)}
			}
			fmt.Fprintln(a.Out, res.Message)
			fmt.Fprintf(a.Out, "Recorded in %s.\n", a.rel(a.path(path)))
			return nil
		},
	}
	cmd.Flags().StringVar(&auditLog, "audit-log", "", "append the unlock line to this file (default: the site's audit_log, or .enrolctl/audit.log)")
	return cmd
}
