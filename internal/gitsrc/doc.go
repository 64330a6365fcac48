// Package gitsrc reads what enrolctl needs from the git repository that holds the
// specs, with go-git (no git binary needed in CI images).
//
// Entry points:
//   - Head returns the commit the working tree is at, recorded in plans and the audit
//     trail so that an applied plan can be traced to the reviewed change; Message its
//     full message (merge commits name their merge request); Dirty whether the files
//     under a folder differ from it, and ChangedFiles which (a refused saved plan names
//     them). A saved plan is bound to the content of the specs, not to a commit: a
//     commit does not survive a squash merge nor reach a shallow clone.
//   - Open(dir) opens the repository; Repo.ChangedSince(rev) lists the files changed
//     between a revision and HEAD (plan --changed-since), and Repo.FS(rev) reads the
//     files as they were at a revision (to know which courses a changed policy
//     selected before the change).
package gitsrc
