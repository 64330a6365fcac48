package cli

import (
	"slices"
	"testing"

	"github.com/spf13/cobra"
)

// apply (and unlock, which frees apply's lease) are the commands that write to Moodle,
// so the only ones connecting with the token that can: every other command, including
// any added later without a thought for tokens, uses the site's read-only token when it
// names one.
func TestOnlyApplyWritesToMoodle(t *testing.T) {
	var writers, all []string
	var walk func(*cobra.Command)
	walk = func(c *cobra.Command) {
		all = append(all, c.CommandPath())
		if commandWrites(c) {
			writers = append(writers, c.CommandPath())
		}
		for _, sub := range c.Commands() {
			walk(sub)
		}
	}
	walk((&App{}).rootCommand())
	if !slices.Equal(writers, []string{"enrolctl apply", "enrolctl unlock"}) {
		t.Errorf("commands connecting with the token that writes: %v, want [enrolctl apply enrolctl unlock]", writers)
	}
	for _, c := range []string{"enrolctl plan", "enrolctl doctor", "enrolctl import moodle", "enrolctl import csv", "enrolctl participants", "enrolctl courses", "enrolctl cohorts", "enrolctl expiring"} {
		if !slices.Contains(all, c) {
			t.Errorf("no command %q: the read-only commands have changed, check which token they use", c)
		}
	}
}
