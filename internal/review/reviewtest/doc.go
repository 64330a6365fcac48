// Package reviewtest holds in-memory stand-ins for GitLab's and GitHub's comment APIs,
// for tests: they keep comments, paginate, check the token and refuse bodies over the
// platform's size limit the way the real services do.
//
// Entry points: NewGitLab and NewGitHub start a server (httptest); Server.Comments
// lists what is stored; Server.Seed adds comments written by others;
// Server.SetReviewedPlan makes a merged merge request with a saved plan to fetch.
package reviewtest
