// Package review puts a plan in front of its reviewers: it posts the rendered plan as
// one comment on the current merge request (GitLab) or pull request (GitHub) and, on
// later pushes, edits that same comment in place.
//
// # Entry points
//
//   - DetectCI(getenv): where the job runs: platform, API address, project, merge
//     request number, commit, actor, pipeline and job addresses. The apply audit reads
//     the actor and merge request from it too.
//   - CommentBody(plan, BodyOptions): the comment text: a hidden marker naming the site,
//     the plan in markdown (usernames masked when asked), or, when that exceeds the
//     platform's limit, a summary counting changes per course and kind with a link to
//     the job's artifact. It never cuts a line in half.
//   - NewGitLab / NewGitHub: the two platforms' comment APIs over plain net/http.
//   - Upsert(ctx, platform, marker, body): find the comment carrying the marker across
//     every page of comments and update it, or create it; Marker(site) is that hidden
//     line. Only a comment of the token's own account (Commenter.Self) counts; one by
//     anyone else is left alone and reported (Result.Hijacked). Post does all of the
//     above for the job's merge request.
//   - FetchPlan(ctx, ci, getenv, opts): in the apply job after a merge, the plan saved
//     by the last pipeline of the merge request merged as this commit.
//   - NewMasker / PlanUsernames: consistent masks for the usernames of a plan;
//     Masker.Plan masks every field of a plan before it is rendered, MaskDiagnostics
//     the diagnostics a CI job prints. Names reach the markdown through
//     render.MarkdownText and render.MarkdownCode only.
//
// # What the client refuses
//
// A redirect from the API is never followed with the token (PRIVATE-TOKEN would go to
// any host, Authorization to the same one): it is an error naming the Location
// (ErrRedirect). Artifact downloads alone follow the platform's redirect to its
// storage, without the token. Every request has a deadline (one minute, five for a
// download), and a plan is read whole or refused: at most planfile.MaxSize bytes, and
// from a zip artifact at most maxInflateRatio times its compressed size.
//
// # Why plain net/http
//
// Five endpoints are used (list, create and update comments on two platforms); the
// official client libraries bring hundreds of endpoints and their dependencies
// (retryablehttp, oauth2) for them. The fakes in the tests speak the same paths,
// headers, pagination and errors as the real APIs.
package review
