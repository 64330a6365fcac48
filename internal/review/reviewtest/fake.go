package reviewtest

import (
	"archive/zip"
	"bytes"
	"cmp"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"unicode/utf8"
)

// Server is a fake platform with one merge request.
type Server struct {
	*httptest.Server
	Token string
	// Limit is the body size limit in characters.
	Limit int

	mu       sync.Mutex
	comments []StoredComment
	nextID   int64
	// Requests counts requests by "METHOD path".
	Requests map[string]int

	// The reviewed plan (SetReviewedPlan): merge request 7 was merged as mergedAs, and
	// its last pipeline's plan job (status planJob) saved plan.
	mergedAs string
	plan     []byte
	planJob  string
	zip      []byte // the artifact archive as served, when set (SetArtifactZip)
	// head is the merge request's head commit; the plan's pipeline ran for HeadSHA.
	head string
	// pipelineProject is the project the head pipeline ran in (ProjectID unless set).
	pipelineProject int64
	// mergedResults: the head pipeline is a merged-results one (SetMergedResults).
	mergedResults bool
	// more are artifacts named enrolctl-plan-7 added after the reviewed one.
	more []artifact
}

// ProjectID is the fake GitLab project's ID, RepositoryID the fake GitHub
// repository's; HeadSHA is the head commit of merge request 7 when its plan was made.
const (
	ProjectID    = 42
	RepositoryID = 4242
	HeadSHA      = "head-sha"
)

// ArtifactRun is the workflow run a GitHub artifact was made by, as GitHub lists it.
type ArtifactRun struct {
	HeadSHA          string
	HeadRepositoryID int64
	RepositoryID     int64
}

type artifact struct {
	id   int64
	run  ArtifactRun
	plan []byte
}

// AddArtifact adds an artifact enrolctl-plan-7 newer than the reviewed one, made by
// run and holding plan; it returns its ID.
func (s *Server) AddArtifact(run ArtifactRun, plan []byte) int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	id := int64(301 + len(s.more))
	s.more = append(s.more, artifact{id: id, run: run, plan: plan})
	return id
}

// SetHead says that merge request 7's head is now sha: a push after its last plan.
func (s *Server) SetHead(sha string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.head = sha
}

// SetMergedResults makes merge request 7's head pipeline a merged-results pipeline:
// it ran at a temporary merge of the head into the target, on the merge ref.
func (s *Server) SetMergedResults() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.mergedResults = true
}

// SetPipelineProject says that merge request 7's head pipeline ran in project id (a
// fork's).
func (s *Server) SetPipelineProject(id int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.pipelineProject = id
}

// SetArtifactZip makes the GitHub artifact's download serve data as it is, instead of
// a zip of the plan.
func (s *Server) SetArtifactZip(data []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.zip = data
}

// SetReviewedPlan records that merge request 7, whose head is HeadSHA, was merged as
// commit mergedAs and that the plan job of its last pipeline (GitLab: pipeline 101;
// GitHub: artifact 300, made by a run of this repository for HeadSHA) ended with
// status (success, failed) saving plan.
func (s *Server) SetReviewedPlan(mergedAs string, plan []byte, status string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.mergedAs, s.plan, s.planJob = mergedAs, plan, status
	s.head = HeadSHA
}

// StoredComment is a comment as the fake keeps it.
type StoredComment struct {
	ID     int64
	Body   string
	System bool // GitLab system notes ("added 1 commit")
	Author string
}

// The accounts of the fakes: the token's own (GitLab: a project access token's bot
// user; GitHub: the workflow's GITHUB_TOKEN, whose comments github-actions[bot]
// writes), and the author of seeded comments.
const (
	GitLabAccount = "project_42_bot_enrolctl"
	GitHubAccount = "github-actions[bot]"
	Reviewer      = "reviewer"
)

// AddComment adds a comment written by author and returns its ID.
func (s *Server) AddComment(author, body string) int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.add(body, author).ID
}

// Comments returns the stored comments, oldest first.
func (s *Server) Comments() []StoredComment {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]StoredComment(nil), s.comments...)
}

// Seed adds n comments written by others (every third one a system note on GitLab).
func (s *Server) Seed(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i := range n {
		s.nextID++
		s.comments = append(s.comments, StoredComment{ID: s.nextID, Body: fmt.Sprintf("LGTM %d", i), System: i%3 == 2, Author: Reviewer})
	}
}

func (s *Server) add(body, author string) StoredComment {
	s.nextID++
	c := StoredComment{ID: s.nextID, Body: body, Author: author}
	s.comments = append(s.comments, c)
	return c
}

func (s *Server) find(id int64) *StoredComment {
	for i := range s.comments {
		if s.comments[i].ID == id {
			return &s.comments[i]
		}
	}
	return nil
}

func (s *Server) count(r *http.Request) {
	if s.Requests == nil {
		s.Requests = map[string]int{}
	}
	s.Requests[r.Method+" "+r.URL.Path]++
}

func page(r *http.Request, total int) (from, to, pageNo, pages int) {
	per, _ := strconv.Atoi(r.URL.Query().Get("per_page"))
	if per <= 0 {
		per = 20
	}
	per = min(per, 100)
	pageNo, _ = strconv.Atoi(r.URL.Query().Get("page"))
	pageNo = max(pageNo, 1)
	pages = max((total+per-1)/per, 1)
	from = min((pageNo-1)*per, total)
	to = min(from+per, total)
	return from, to, pageNo, pages
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func readBody(r *http.Request) (string, bool) {
	var in struct {
		Body *string `json:"body"`
	}
	if err := json.NewDecoder(r.Body).Decode(&in); err != nil || in.Body == nil {
		return "", false
	}
	return *in.Body, true
}

// NewGitLab starts a fake GitLab whose project 42 has merge request 7. Notes are at
// /api/v4/projects/42/merge_requests/7/notes; the token goes in PRIVATE-TOKEN.
func NewGitLab(token string) *Server {
	s := &Server{Token: token, Limit: 1000000}
	const base = "/api/v4/projects/42/merge_requests/7/notes"
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		defer s.mu.Unlock()
		s.count(r)
		if r.Header.Get("PRIVATE-TOKEN") != s.Token {
			writeJSON(w, http.StatusUnauthorized, map[string]string{"message": "401 Unauthorized"})
			return
		}
		if s.gitLabFetch(w, r) {
			return
		}
		switch {
		case r.URL.Path == "/api/v4/user" && r.Method == http.MethodGet:
			writeJSON(w, http.StatusOK, map[string]any{"id": 9, "username": GitLabAccount, "bot": true})
		case r.URL.Path == base && r.Method == http.MethodGet:
			from, to, p, pages := page(r, len(s.comments))
			out := []map[string]any{}
			for _, c := range s.comments[from:to] {
				out = append(out, map[string]any{"id": c.ID, "body": c.Body, "system": c.System, "author": map[string]any{"username": c.Author}})
			}
			next := ""
			if p < pages {
				next = strconv.Itoa(p + 1)
			}
			w.Header().Set("X-Next-Page", next)
			w.Header().Set("X-Total-Pages", strconv.Itoa(pages))
			writeJSON(w, http.StatusOK, out)
		case r.URL.Path == base && r.Method == http.MethodPost:
			body, ok := readBody(r)
			if !ok || body == "" {
				writeJSON(w, http.StatusBadRequest, map[string]string{"error": "body is missing"})
				return
			}
			if utf8.RuneCountInString(body) > s.Limit {
				writeJSON(w, http.StatusBadRequest, map[string]any{"message": map[string][]string{"note": {"is too long (maximum is 1000000 characters)"}}})
				return
			}
			c := s.add(body, GitLabAccount)
			writeJSON(w, http.StatusCreated, map[string]any{"id": c.ID, "body": c.Body, "author": map[string]any{"username": c.Author}})
		case strings.HasPrefix(r.URL.Path, base+"/") && r.Method == http.MethodPut:
			id, _ := strconv.ParseInt(strings.TrimPrefix(r.URL.Path, base+"/"), 10, 64)
			c := s.find(id)
			if c == nil || c.System {
				writeJSON(w, http.StatusNotFound, map[string]string{"message": "404 Not found"})
				return
			}
			if c.Author != GitLabAccount { // only the author edits a note
				writeJSON(w, http.StatusForbidden, map[string]string{"message": "403 Forbidden"})
				return
			}
			body, ok := readBody(r)
			if !ok {
				writeJSON(w, http.StatusBadRequest, map[string]string{"error": "body is missing"})
				return
			}
			if utf8.RuneCountInString(body) > s.Limit {
				writeJSON(w, http.StatusBadRequest, map[string]any{"message": map[string][]string{"note": {"is too long (maximum is 1000000 characters)"}}})
				return
			}
			c.Body = body
			writeJSON(w, http.StatusOK, map[string]any{"id": c.ID, "body": c.Body, "author": map[string]any{"username": c.Author}})
		default:
			writeJSON(w, http.StatusNotFound, map[string]string{"message": "404 Not found"})
		}
	}))
	return s
}

// NewGitHub starts a fake GitHub whose repository acme/specs has pull request 7.
// Comments are at /repos/acme/specs/issues/7/comments; the token is a Bearer token.
func NewGitHub(token string) *Server {
	s := &Server{Token: token, Limit: 65536}
	const list = "/repos/acme/specs/issues/7/comments"
	const one = "/repos/acme/specs/issues/comments/"
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		defer s.mu.Unlock()
		s.count(r)
		if strings.HasPrefix(r.URL.Path, "/blob/") { // signed storage URL: a token is refused
			if r.Header.Get("Authorization") != "" {
				w.WriteHeader(http.StatusBadRequest)
				w.Write([]byte("<Error><Code>InvalidAuthenticationInfo</Code></Error>"))
				return
			}
			plan := s.plan
			for _, a := range s.more {
				if r.URL.Path == fmt.Sprintf("/blob/%d", a.id) {
					plan = a.plan
				}
			}
			s.writeZip(w, plan)
			return
		}
		if r.Header.Get("Authorization") != "Bearer "+s.Token {
			writeJSON(w, http.StatusUnauthorized, map[string]string{"message": "Bad credentials", "documentation_url": "https://docs.github.com/rest"})
			return
		}
		tooLong := func() {
			writeJSON(w, http.StatusUnprocessableEntity, map[string]any{"message": "Validation Failed",
				"errors": []map[string]string{{"resource": "IssueComment", "code": "custom", "field": "body", "message": "body is too long (maximum is 65536 characters)"}}})
		}
		if s.gitHubFetch(w, r) {
			return
		}
		switch {
		case r.URL.Path == "/user" && r.Method == http.MethodGet:
			// GITHUB_TOKEN is an installation token: it has no user.
			writeJSON(w, http.StatusForbidden, map[string]string{"message": "Resource not accessible by integration"})
		case r.URL.Path == list && r.Method == http.MethodGet:
			visible := slices.DeleteFunc(slices.Clone(s.comments), func(c StoredComment) bool { return c.System })
			from, to, p, pages := page(r, len(visible))
			out := []map[string]any{}
			for _, c := range visible[from:to] {
				out = append(out, map[string]any{"id": c.ID, "body": c.Body, "user": map[string]any{"login": c.Author}})
			}
			var links []string
			link := func(n int, rel string) {
				q := r.URL.Query()
				q.Set("page", strconv.Itoa(n))
				links = append(links, fmt.Sprintf(`<%s%s?%s>; rel="%s"`, s.URL, list, q.Encode(), rel))
			}
			if p < pages {
				link(p+1, "next")
				link(pages, "last")
			}
			if p > 1 {
				link(p-1, "prev")
				link(1, "first")
			}
			if len(links) > 0 {
				w.Header().Set("Link", strings.Join(links, ", "))
			}
			writeJSON(w, http.StatusOK, out)
		case r.URL.Path == list && r.Method == http.MethodPost:
			body, ok := readBody(r)
			if !ok || body == "" {
				writeJSON(w, http.StatusUnprocessableEntity, map[string]string{"message": "Validation Failed"})
				return
			}
			if utf8.RuneCountInString(body) > s.Limit {
				tooLong()
				return
			}
			c := s.add(body, GitHubAccount)
			writeJSON(w, http.StatusCreated, map[string]any{"id": c.ID, "body": c.Body, "user": map[string]any{"login": c.Author}})
		case strings.HasPrefix(r.URL.Path, one) && r.Method == http.MethodPatch:
			id, _ := strconv.ParseInt(strings.TrimPrefix(r.URL.Path, one), 10, 64)
			c := s.find(id)
			if c == nil || c.System {
				writeJSON(w, http.StatusNotFound, map[string]string{"message": "Not Found"})
				return
			}
			if c.Author != GitHubAccount {
				writeJSON(w, http.StatusForbidden, map[string]string{"message": "Resource not accessible by integration"})
				return
			}
			body, ok := readBody(r)
			if !ok {
				writeJSON(w, http.StatusUnprocessableEntity, map[string]string{"message": "Validation Failed"})
				return
			}
			if utf8.RuneCountInString(body) > s.Limit {
				tooLong()
				return
			}
			c.Body = body
			writeJSON(w, http.StatusOK, map[string]any{"id": c.ID, "body": c.Body, "user": map[string]any{"login": c.Author}})
		default:
			writeJSON(w, http.StatusNotFound, map[string]string{"message": "Not Found"})
		}
	}))
	return s
}

// gitLabFetch serves what fetching a reviewed plan reads: the merge requests of a
// commit, the merge request's pipelines, a pipeline's jobs, a job's artifact file.
func (s *Server) gitLabFetch(w http.ResponseWriter, r *http.Request) bool {
	const project = "/api/v4/projects/42"
	p := r.URL.Path
	switch {
	case strings.HasPrefix(p, project+"/repository/commits/") && strings.HasSuffix(p, "/merge_requests"):
		sha := strings.TrimSuffix(strings.TrimPrefix(p, project+"/repository/commits/"), "/merge_requests")
		out := []map[string]any{}
		if sha == s.mergedAs && sha != "" {
			out = append(out, map[string]any{"iid": 7, "state": "merged", "sha": s.head, "web_url": s.URL + "/acme/specs/-/merge_requests/7"})
		} else if sha != "" {
			// a commit pushed to the branch of an open merge request
			out = append(out, map[string]any{"iid": 8, "state": "opened"})
		}
		writeJSON(w, http.StatusOK, out)
	case p == project+"/merge_requests/7":
		pp := cmp.Or(s.pipelineProject, ProjectID)
		// head_pipeline is the last pipeline of the head when the plan ran; the fake
		// keeps it when the head moves, so that the client's own check is tested.
		sha, ref := HeadSHA, "refs/merge-requests/7/head"
		if s.mergedResults {
			sha, ref = "temporary-merge-sha", "refs/merge-requests/7/merge"
		}
		writeJSON(w, http.StatusOK, map[string]any{"iid": 7, "state": "merged", "sha": s.head,
			"head_pipeline": map[string]any{"id": 101, "sha": sha, "ref": ref, "project_id": pp, "status": "success"}})
	case p == project+"/merge_requests/7/pipelines":
		writeJSON(w, http.StatusOK, []map[string]any{{"id": 101, "sha": HeadSHA}, {"id": 100, "sha": "older"}})
	case p == project+"/pipelines/101/jobs":
		writeJSON(w, http.StatusOK, []map[string]any{{"id": 201, "name": "enrolctl-validate", "status": "success"}, {"id": 202, "name": "enrolctl-plan", "status": s.planJob}})
	case p == project+"/jobs/202/artifacts/plan.json":
		if s.plan == nil {
			writeJSON(w, http.StatusNotFound, map[string]string{"message": "404 Not Found"})
			return true
		}
		w.Header().Set("Content-Type", "application/octet-stream")
		w.Write(s.plan)
	default:
		return false
	}
	return true
}

// gitHubFetch serves the pull requests of a commit, the artifacts by name and their
// download (a redirect to storage, as GitHub does).
func (s *Server) gitHubFetch(w http.ResponseWriter, r *http.Request) bool {
	const repo = "/repos/acme/specs"
	p := r.URL.Path
	switch {
	case strings.HasPrefix(p, repo+"/commits/") && strings.HasSuffix(p, "/pulls"):
		sha := strings.TrimSuffix(strings.TrimPrefix(p, repo+"/commits/"), "/pulls")
		out := []map[string]any{}
		if sha == s.mergedAs && sha != "" {
			out = append(out, map[string]any{"number": 7, "merged_at": "2026-11-30T09:00:00Z",
				"head": map[string]any{"sha": s.head, "repo": map[string]any{"id": RepositoryID}},
				"base": map[string]any{"ref": "main", "repo": map[string]any{"id": RepositoryID}}})
		}
		writeJSON(w, http.StatusOK, out)
	case p == repo+"/actions/artifacts":
		arts := []map[string]any{}
		if r.URL.Query().Get("name") == "enrolctl-plan-7" && s.plan != nil {
			run := func(a ArtifactRun) map[string]any {
				return map[string]any{"id": 9000, "head_sha": a.HeadSHA, "head_repository_id": a.HeadRepositoryID, "repository_id": a.RepositoryID, "head_branch": "feature"}
			}
			reviewed := ArtifactRun{HeadSHA: HeadSHA, HeadRepositoryID: RepositoryID, RepositoryID: RepositoryID}
			arts = append(arts,
				map[string]any{"id": 299, "name": "enrolctl-plan-7", "expired": true, "created_at": "2026-11-20T09:00:00Z", "archive_download_url": s.URL + repo + "/actions/artifacts/299/zip", "workflow_run": run(reviewed)},
				map[string]any{"id": 300, "name": "enrolctl-plan-7", "expired": false, "created_at": "2026-11-29T09:00:00Z", "archive_download_url": s.URL + repo + "/actions/artifacts/300/zip", "workflow_run": run(reviewed)})
			for i, a := range s.more {
				arts = append([]map[string]any{{"id": a.id, "name": "enrolctl-plan-7", "expired": false, "created_at": fmt.Sprintf("2026-11-29T10:%02d:00Z", i), "archive_download_url": fmt.Sprintf("%s%s/actions/artifacts/%d/zip", s.URL, repo, a.id), "workflow_run": run(a.run)}}, arts...)
			}
		}
		writeJSON(w, http.StatusOK, map[string]any{"total_count": len(arts), "artifacts": arts})
	case strings.HasPrefix(p, repo+"/actions/artifacts/") && strings.HasSuffix(p, "/zip"):
		id := strings.TrimSuffix(strings.TrimPrefix(p, repo+"/actions/artifacts/"), "/zip")
		http.Redirect(w, r, s.URL+"/blob/"+id, http.StatusFound)
	default:
		return false
	}
	return true
}

func (s *Server) writeZip(w http.ResponseWriter, plan []byte) {
	if s.zip != nil {
		w.Header().Set("Content-Type", "application/zip")
		w.Write(s.zip)
		return
	}
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	f, _ := zw.Create("plan.json")
	f.Write(plan)
	f, _ = zw.Create("plan.md")
	f.Write([]byte("### enrolctl plan\n"))
	zw.Close()
	w.Header().Set("Content-Type", "application/zip")
	w.Write(buf.Bytes())
}
