package spec

import (
	"crypto/sha256"
	"fmt"
	"path"
	"regexp"
	"strconv"
	"strings"

	"github.com/enrolctl/enrolctl/internal/diag"
	"github.com/enrolctl/enrolctl/internal/tree"
)

// The loader reports at most this many diagnostics per file, and in all: past them, one
// diagnostic says how many more there are. A spec of a million bad lines must not print
// a million lines; the first ones are what the author fixes first.
const (
	MaxFileDiagnostics = 100
	MaxDiagnostics     = 500
)

// parseFile parses and checks one file within the limits: at most MaxFileSize (content
// given to LoadBytes was not read by readSpecFile), its diagnostics capped.
func parseFile(file string, src []byte, opts Options, yr *tree.YAMLReader) fileResult {
	if len(src) > MaxFileSize {
		return fileResult{file: file, diags: diag.Diagnostics{diag.Errorf(diag.Pos{File: file},
			"cannot read: file is %s; a spec file may be at most %s (split it into several files)", mib(int64(len(src))), mib(MaxFileSize))}}
	}
	var key [32]byte
	cached := opts.cache != nil && !strings.EqualFold(path.Ext(file), ".hcl")
	if cached {
		key = sha256.Sum256(src)
		if r, ok := opts.cache.get(key, file); ok {
			return r
		}
	}
	r := parseFileAll(file, src, opts, yr)
	r.diags = capDiagnostics(r.diags, MaxFileDiagnostics, "in this file")
	if cached {
		opts.cache.put(key, r, len(src))
	}
	return r
}

// capDiagnostics sorts ds and keeps its first limit entries; when it drops any, it adds
// one "and N more" diagnostic at the place of the first one dropped, which sorts after
// those kept. where says what the count covers ("in this file").
func capDiagnostics(ds diag.Diagnostics, limit int, where string) diag.Diagnostics {
	ds = ds.Sort()
	if len(ds) <= limit {
		return ds
	}
	dropped := ds[limit:]
	errs := 0
	for _, d := range dropped {
		if d.Severity == diag.Error {
			errs++
		}
	}
	warns := len(dropped) - errs
	more := diag.Diagnostic{File: dropped[0].File, Line: dropped[0].Line, Col: dropped[0].Col, Severity: diag.Warning}
	switch {
	case errs > 0 && warns > 0:
		more.Message = fmt.Sprintf("and %s more errors and %s more warnings %s, not shown (fix the ones above first)", count(errs), count(warns), where)
	case errs > 0:
		more.Message = fmt.Sprintf("and %s more errors %s, not shown (fix the ones above first)", count(errs), where)
	default:
		more.Message = fmt.Sprintf("and %s more warnings %s, not shown", count(warns), where)
	}
	if errs > 0 {
		more.Severity = diag.Error
	}
	return append(ds[:limit:limit], more)
}

// count writes n with thousands separators (1,000,005).
func count(n int) string {
	s := fmt.Sprint(n)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

var moreErrors = regexp.MustCompile(`^and ([0-9,]+) more errors`)

// ErrorCount is how many errors ds stands for: its errors, each "and N more" one of the
// caps counting the N it replaced, so that a total printed after them is the true one.
func ErrorCount(ds diag.Diagnostics) int {
	n := 0
	for _, d := range ds {
		if d.Severity != diag.Error {
			continue
		}
		if m := moreErrors.FindStringSubmatch(d.Message); m != nil {
			if more, err := strconv.Atoi(strings.ReplaceAll(m[1], ",", "")); err == nil {
				n += more
				continue
			}
		}
		n++
	}
	return n
}
