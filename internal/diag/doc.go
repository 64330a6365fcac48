// Package diag holds enrolctl's one diagnostic type: every error and warning found in
// the configuration, the specs, the checks against the site, the plan and apply travels
// as a Diagnostic, with a severity, a start–end range in a file, a message, an optional
// did-you-mean suggestion, the source line it points at, and a JSON form. Diagnostics
// about a user carry a Code and a structured Subject (course, user, method), so that
// readers such as comment masking never parse the message.
//
// Entry points:
//   - Diagnostic and its Error() "file:line:col: message (did you mean "x"?)"; Text, the
//     message with its did-you-mean, the one wording of a suggestion; Errorf,
//     Warnf and Diagnostic.At build and locate one; Diagnostic.Pretty renders it with its
//     source line and a caret underline.
//   - Diagnostics: HasErrors, Errors, Warnings, Sort, Err (nil when there is no error),
//     WithSource (fills Snippet and the end of the range from the files).
//   - Diagnostic.About sets the Code and Subject; Codes is their closed set.
//   - Suggest: the closest known name to a misspelt one, or "".
package diag
