// Package spec loads course specs and policy files (YAML or HCL), checks them strictly,
// and merges them into the desired state of each course (internal/state).
//
// # Entry points
//
//   - Load(fsys, root, Options) and LoadDir(dir, Options) read every .yaml, .yml and
//     .hcl file under a folder (hidden files and folders skipped) into a Set: course
//     specs, policies and diagnostics. Load takes an fs.FS so specs can be read at a
//     git ref; LoadBytes reads one file's content.
//   - Resolve(set, catalogue) merges each course spec with the policies that select it,
//     using the live course catalogue (shortnames and category paths), and returns the
//     desired []state.Course with every diagnostic.
//   - ReadUploadUsers and WriteAdditions turn a CSV in Moodle's upload-users format
//     into manual enrolments written into spec files (enrolctl import csv); DecodeCSV
//     takes files as spreadsheets save them (separator, BOM, Windows-1252) and
//     CheckAdditions checks them against the site.
//   - Policies may renew live manual enrolments (renew.go, state.Renewal) and declare
//     methods absent; a variables.hcl at the folder root is shared by every HCL file.
//   - SchemaJSON: the JSON Schema of YAML spec files (docs/spec.schema.json), built from
//     fields.go, the table of every object's fields that the strict reader also uses.
//   - Diagnostic / Diagnostics (from internal/diag): "file:line:col: message (did you mean
//     "x"?)", sorted, with HasErrors.
//
// # How files are read
//
// Both syntaxes are turned into one position-carrying tree (internal/tree), and one strict
// reader checks it, so a mistake gets the same message in YAML and in HCL: unknown
// fields (with a did-you-mean), duplicate keys, wrong types, bad dates, unknown method
// types, prune modes and roles, capitalised usernames, duplicate method identities,
// users listed twice, and courses declared in two files. HCL blocks map onto the YAML
// shape (method "cohort" {} is an item of methods: with type: cohort; user "x" {} an
// item of manual.users; group "TP1" {} an item of groups).
//
// # Dates
//
// A day (YYYY-MM-DD) is the whole day in the site's time zone (Options.Location): a
// start is that day's midnight, an end is the following midnight. RFC 3339 timestamps
// are taken as is; until: never is no end. Durations are refused: they would make a
// plan depend on the day it runs (CSV import turns them into dates once).
//
// Every day, in YAML or HCL's date(), goes through tree.CheckDay: it must exist and
// fall in 2000..9999, so no date becomes timestamp 0 (Moodle's "no date").
//
// # Limits
//
// Files are read only when they are regular files of at most MaxFileSize (readfile.go:
// a FIFO or a device is refused before it is opened); HCL evaluation is bounded
// (tree.MaxHCLValue, tree.MaxHCLWork, nesting checked before parsing); the diagnostics
// kept are capped per file and in all, one more counting the rest (diagcap.go).
// docs/spec.md lists the limits for users.
//
// # Merging
//
// A course's desired state is its spec plus every policy that selects it. Methods are
// matched by identity (state.Method.Key); the same identity with other settings from
// two sources is an error naming both. For manual defaults (role, until, from, prune)
// the course's own spec wins over policies, and policies that disagree are an error.
// docs/spec.md is the user reference for all of this.
package spec
