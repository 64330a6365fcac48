package cli

import (
	"os"
	"path/filepath"
	"testing"
)

// The audit's merge request on GitHub comes from the event file when GITHUB_REF does
// not name a pull request (a pull_request_target or workflow_run job).
func TestProvenanceUsesGitHubEventFile(t *testing.T) {
	dir := t.TempDir()
	event := filepath.Join(dir, "event.json")
	if err := os.WriteFile(event, []byte(`{"number":34,"pull_request":{"number":34,"html_url":"https://github.com/u/r/pull/34","head":{"sha":"abc"}}}`), 0o600); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{"GITHUB_ACTIONS": "true", "GITHUB_ACTOR": "octo", "GITHUB_EVENT_PATH": event, "GITHUB_REF": "refs/heads/main"}
	a := &App{Dir: dir, Getenv: func(k string) string { return env[k] }}
	got := a.provenance(&siteConn{specsDir: "specs"})
	if got.MergeRequest != "https://github.com/u/r/pull/34" || got.Actor != "octo" || got.CI != "github" {
		t.Errorf("provenance = %+v, want pull request 34 by octo on github", got)
	}
}
