// Package planfile writes and reads the plan document, the JSON form of a diff.Plan that
// `plan -o json` prints and `plan -out FILE` saves (docs/plan-format.md). The document
// has its own types (document.go), converted from and to the plan, so that internal
// types can change without changing the file; docs/plan.schema.json is generated from
// them (schema_test.go, with -update). Both outputs go through Encode, so the two can
// never differ; Read is the one validator of a plan file: the shipped JSON Schema,
// then the checks a schema cannot express, before anything acts on it, on one parse of
// the file, and it never panics, whatever the bytes.
//
// Entry points:
//   - Encode(w, plan): the document, indented, with its summary.
//   - Read(data): the file's plan (Saved) back, or an error saying what is wrong and
//     where (InvalidPlanError for what the schema cannot say); Decode(data), its plan.
//   - Validate(data): only the schema check (tests, and tools that read plans).
//   - EncodeSigned(w, plan, key) and Saved.Verify(key): the saved plan's optional
//     HMAC-SHA256 signature (sign.go), for sites that sign their plans.
package planfile
