package cli

import (
	"github.com/enrolctl/enrolctl/internal/config"
	"github.com/enrolctl/enrolctl/internal/redact"
	"github.com/enrolctl/enrolctl/internal/review"
	"github.com/enrolctl/enrolctl/internal/termtext"
)

// holdEnvSecrets gives the redactor the secrets the environment holds for enrolctl
// whichever command runs: the GitLab and GitHub tokens of comment and fetch-plan.
func (a *App) holdEnvSecrets() {
	for _, env := range []string{review.GitLabTokenEnv, review.GitHubTokenEnv} {
		redact.Add(a.Getenv(env))
	}
}

// holdSiteSecrets gives the redactor every secret the configuration points at, for
// every site and whether or not this command uses it: both Moodle tokens and the plan
// signing key. A spec whose course is the token, or a token given as an argument, is
// then never printed back, nor written to a file.
func (a *App) holdSiteSecrets(cfg *config.Config) {
	for _, s := range cfg.Sites {
		if s.Sandbox {
			continue // its token, "sandbox", is no secret
		}
		if s.TokenEnv != "" || s.TokenFile != "" {
			if t, err := s.Token(a.Dir, a.Getenv); err == nil {
				redact.Add(t)
			}
		}
		if s.HasReadToken() {
			if t, err := s.ReadToken(a.Dir, a.Getenv); err == nil {
				redact.Add(t)
			}
		}
		if s.PlanSigningKeyEnv != "" {
			redact.Add(a.Getenv(s.PlanSigningKeyEnv))
		}
	}
}

// redactStreams puts the redactor on stdout and stderr for one run, over a writer that
// escapes control characters (termtext: a course or user name cannot rewrite what the
// terminal shows); the returned function flushes what they held back and restores the
// streams.
func (a *App) redactStreams() func() {
	out, errw := a.Out, a.Err
	eo, ee := termtext.NewWriter(out, a.color), termtext.NewWriter(errw, nil)
	ro, re := redact.NewWriter(eo), redact.NewWriter(ee)
	a.Out, a.Err = ro, re
	a.errRaw = redact.NewWriter(ee.Raw())
	return func() {
		_ = ro.Flush()
		_ = re.Flush()
		_ = a.errRaw.(*redact.Writer).Flush()
		_ = eo.Flush()
		_ = ee.Flush()
		a.Out, a.Err, a.errRaw = out, errw, nil
	}
}
