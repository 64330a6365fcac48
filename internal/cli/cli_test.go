package cli

import (
	"os"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"
)

func TestMain(m *testing.M) {
	testscript.Main(m, map[string]func(){
		"enrolctl": func() { os.Exit(Main(os.Args[1:], StdStreams())) },
	})
}

// TestScripts runs the CLI scenarios in testdata/script: each is a txtar archive of
// files and commands, run in a fresh folder with the sandbox Moodle.
func TestScripts(t *testing.T) {
	testscript.Run(t, testscript.Params{
		Dir: "testdata/script",
		Setup: func(env *testscript.Env) error {
			env.Setenv("NO_COLOR", "1")
			return nil
		},
	})
}
