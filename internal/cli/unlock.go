package cli

import (
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/enrolctl/enrolctl/internal/apply"
)

// unlockCommand is `enrolctl unlock LEASE_ID`, Terraform's force-unlock: it frees the
// site's apply lease held under that id (a run's id, named by the refusal, the warning
// of an apply that could not release it, and the audit record's start line).
func (a *App) unlockCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "unlock LEASE_ID",
		Short: "Free the site's apply lease of an apply that is gone",
		Long: `Unlock frees the site's apply lease held under LEASE_ID, when the apply that holds
it is gone but could not release it: its runner was killed on another host, or its
release failed while the site was down. The id is the run's: the refusal of the next
apply names it, and so do the warning of the apply that could not release it and the
"lease" of its audit record's start line.

A lease held under another id is left alone. A lease whose holder ran on this host
and is no longer running needs no unlock: the next apply takes it over, and a lease
nobody renews expires after 2 minutes.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			conn, err := a.connect()
			if err != nil {
				return err
			}
			if conn.sandbox != nil {
				return errors.New("the sandbox has no apply lease (its file lock is released when its process ends): nothing to unlock")
			}
			prov := a.provenance(conn)
			as := apply.ThisProcess(prov.Actor, apply.NewRunID(), "unlock").String()
			msg, err := apply.Unlock(cmd.Context(), conn.client, args[0], as)
			if err != nil {
				return &exitError{code: exitFailure, err: fmt.Errorf("site %q: %w", conn.name, err)}
			}
			fmt.Fprintln(a.Out, msg)
			return nil
		},
	}
}
