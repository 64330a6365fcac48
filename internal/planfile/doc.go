// Package planfile writes and reads the plan document, the JSON form of a diff.Plan that
// `plan -o json` prints and `plan -out FILE` saves (docs/plan-format.md). Both go through
// Encode, so the two can never differ; Decode validates a whole file against the
// shipped JSON Schema (docs/plan.schema.json) and the checks a schema cannot express
// before anything acts on it, and never panics, whatever the bytes.
//
// Entry points:
//   - Encode(w, plan): the document, indented, with its summary.
//   - Decode(data): the plan back, or an error saying what is wrong and where.
//   - Validate(data): only the schema check (tests, and tools that read plans).
//   - EncodeSigned(w, plan, key) and Verify(data, key): the saved plan's optional
//     HMAC-SHA256 signature (sign.go), for sites that sign their plans.
package planfile
