// Package gitsrc reads what enrolctl needs from the git repository that holds the
// specs, with go-git (no git binary needed in CI images).
//
// Entry points:
//   - Head returns the commit the working tree is at, recorded in plans and the audit
//     trail so that an applied plan can be traced to the reviewed change; Message its
//     full message (merge commits name their merge request); Dirty whether the files
//     under a folder differ from it.
//   - TreeAt(dir, commit) reads the files under dir as they were at a commit, capped
//     at 8 MB a file, so that a saved plan is checked against the specs it was planned
//     from.
//   - Open(dir) opens the repository; Repo.ChangedSince(rev) lists the files changed
//     between a revision and HEAD (plan --changed-since), and Repo.FS(rev) reads the
//     files as they were at a revision (to know which courses a changed policy
//     selected before the change).
package gitsrc
