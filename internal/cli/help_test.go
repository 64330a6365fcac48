package cli

import (
	"bytes"
	"strings"
	"testing"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// TestHelpFlags checks every flag's line of --help: a usage that states its own
// default must not get cobra's "(default X)" too (apply --help printed both), and a
// back-quoted word becomes the value's name in cobra, so only a placeholder may be
// back-quoted (plan --help showed "--out enrolctl apply FILE").
func TestHelpFlags(t *testing.T) {
	a := &App{Streams: Streams{Out: &bytes.Buffer{}, Err: &bytes.Buffer{}}, Getenv: func(string) string { return "" }}
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		for _, fs := range []*pflag.FlagSet{c.LocalFlags()} {
			fs.VisitAll(func(f *pflag.Flag) {
				usage := fs.FlagUsages()
				line := ""
				for _, l := range strings.Split(usage, "\n") {
					if strings.Contains(l, "--"+f.Name+" ") || strings.HasSuffix(strings.Fields(l + " x")[0], "--"+f.Name) {
						line = l
						break
					}
				}
				if strings.Contains(f.Usage, "default") && strings.Count(line, "default") > 1 {
					t.Errorf("%s --%s states its default twice: %s", c.CommandPath(), f.Name, strings.TrimSpace(line))
				}
				if name, _ := pflag.UnquoteUsage(f); strings.Contains(name, " ") {
					t.Errorf("%s --%s: its value is shown as %q: back-quote one placeholder word only", c.CommandPath(), f.Name, name)
				}
			})
		}
		for _, sub := range c.Commands() {
			walk(sub)
		}
	}
	walk(a.rootCommand())
}

// TestColor: colour only on a terminal, and never with --no-color, NO_COLOR or TERM=dumb.
func TestColor(t *testing.T) {
	for _, tc := range []struct {
		terminal, noColor bool
		env               map[string]string
		want              bool
	}{
		{terminal: true, want: true},
		{terminal: false, want: false},
		{terminal: true, noColor: true, want: false},
		{terminal: true, env: map[string]string{"NO_COLOR": "1"}, want: false},
		{terminal: true, env: map[string]string{"TERM": "dumb"}, want: false},
		{terminal: true, env: map[string]string{"TERM": "xterm-256color"}, want: true},
	} {
		a := &App{Streams: Streams{Terminal: tc.terminal}, Getenv: func(k string) string { return tc.env[k] }, noColor: tc.noColor}
		if got := a.color(); got != tc.want {
			t.Errorf("terminal %v, --no-color %v, env %v: color() = %v, want %v", tc.terminal, tc.noColor, tc.env, got, tc.want)
		}
	}
}
