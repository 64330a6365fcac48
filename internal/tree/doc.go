// Package tree turns YAML and HCL source into one position-carrying tree, so that a
// single strict reader can check both syntaxes against the same schema and report
// every mistake as file:line:col.
//
// Entry points:
//   - ParseYAML: YAML documents (go.yaml.in/yaml/v3 nodes) to Nodes; duplicate keys are
//     reported here because YAML libraries accept them.
//   - ParseHCL: an HCL file (hclsyntax) to one Node, with variables, locals and a small
//     function set evaluated; blocks map to the YAML shape through BlockRules.
//     Evaluation is bounded (hcllimits.go): nesting and operator chains are checked on
//     the tokens before parsing, each expression's result is bounded from the sizes of
//     what it refers to before it is evaluated, each function call is checked on its
//     actual arguments, a file's total work is capped, and a Budget caps what all the files of one load
//     evaluate and keep together (hclbudget.go); every refusal is positioned.
//   - Obj: reads an object node field by field and reports unknown fields with a
//     did-you-mean, wrong types and missing required fields.
package tree
