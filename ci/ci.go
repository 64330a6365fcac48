// Package ci holds the CI templates enrolctl ships (GitLab CI, GitHub Actions),
// embedded so that `enrolctl init --ci` writes the very files docs/ci.md describes.
//
// Entry points: GitLab (gitlab/enrolctl.gitlab-ci.yml), GitHubWorkflow
// (github/workflow.yml, which uses the composite action github/action.yml). Both
// install a release with install.sh, whose tests serve release artifacts on 127.0.0.1.
package ci

import _ "embed"

// GitLab is the GitLab CI template: plan on merge requests, apply after the merge, drift.
//
//go:embed gitlab/enrolctl.gitlab-ci.yml
var GitLab []byte

// GitHubWorkflow is the GitHub Actions workflow of the same loop.
//
//go:embed github/workflow.yml
var GitHubWorkflow []byte
