package render

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"

	"github.com/enrolctl/enrolctl/internal/diag"
	"github.com/enrolctl/enrolctl/internal/diff"
)

// TerraformReport writes the plan's counts in the JSON GitLab's merge-request widget
// reads from an artifacts:reports:terraform file: {"create": N, "update": N,
// "delete": N}, the adds, changes and removals of the plan's last line.
func TerraformReport(w io.Writer, p diff.Plan) error {
	s := p.Summary()
	return writeJSON(w, struct {
		Create int `json:"create"`
		Update int `json:"update"`
		Delete int `json:"delete"`
	}{s.Add, s.Change, s.Remove})
}

// codeQualityIssue is one issue of a GitLab code quality report (the subset of the
// Code Climate format GitLab reads).
type codeQualityIssue struct {
	Description string              `json:"description"`
	CheckName   string              `json:"check_name"`
	Fingerprint string              `json:"fingerprint"`
	Severity    string              `json:"severity"`
	Location    codeQualityLocation `json:"location"`
}

type codeQualityLocation struct {
	Path  string `json:"path"`
	Lines struct {
		Begin int `json:"begin"`
	} `json:"lines"`
}

// CodeQuality writes diagnostics as a GitLab code quality report (artifacts:reports:
// codequality): errors are critical (they stop the plan), warnings minor. The caller
// masks what must be masked: the merge request shows these lines.
func CodeQuality(w io.Writer, ds diag.Diagnostics) error {
	issues := []codeQualityIssue{}
	for _, d := range ds {
		is := codeQualityIssue{Description: d.Text(), CheckName: "enrolctl", Severity: "minor"}
		if d.Code != "" {
			is.CheckName = "enrolctl/" + string(d.Code)
		}
		if d.Severity == diag.Error {
			is.Severity = "critical"
		}
		is.Location.Path = d.File
		if is.Location.Path == "" {
			is.Location.Path = "enrolctl.yaml" // a problem of no file: the repository's configuration
		}
		is.Location.Lines.Begin = max(1, d.Line)
		// Stable across pipelines while the problem stands (not its line: edits above it
		// move it), distinct for two problems of one file.
		h := sha256.Sum256([]byte(is.CheckName + "\x00" + is.Location.Path + "\x00" + is.Description))
		is.Fingerprint = hex.EncodeToString(h[:16])
		issues = append(issues, is)
	}
	return writeJSON(w, issues)
}

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}
