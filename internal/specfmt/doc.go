// Package specfmt rewrites spec and configuration files in their canonical layout, as
// `enrolctl fmt` does: HCL as hclwrite formats it (terraform fmt's layout), YAML with
// two-space indentation and sequences indented under their key, comments kept.
//
// Entry point: Format(name, src), which never changes what a file means: the YAML it
// writes is read back and compared, value for value and comment for comment, with the
// original, and a file that would come out different is left as it is, with an error.
package specfmt
