package planfile

import (
	"encoding/json"
	"fmt"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/enrolctl/enrolctl/docs"
	"github.com/enrolctl/enrolctl/internal/diag"
	"github.com/enrolctl/enrolctl/internal/diff"
)

// The plan schema's enums are the closed sets of the code, so that a value added to
// one (a reason, a field, a diagnostic code) cannot be missing from the other.
func TestSchemaEnumsAreTheClosedSets(t *testing.T) {
	var schema struct {
		Defs map[string]struct {
			Enum       []string                   `json:"enum"`
			Properties map[string]json.RawMessage `json:"properties"`
		} `json:"$defs"`
	}
	if err := json.Unmarshal(docs.PlanSchema, &schema); err != nil {
		t.Fatal(err)
	}
	names := func(xs any) []string {
		var out []string
		b, _ := json.Marshal(xs)
		_ = json.Unmarshal(b, &out)
		return out
	}
	for _, tt := range []struct {
		def, prop string
		want      []string
	}{
		{"kind", "", names(diff.Kinds)},
		{"change", "action", names(diff.Actions)},
		{"reason", "code", names(diff.ReasonCodes)},
		{"field", "field", names(diff.Fields)},
		{"removal", "effect", names(diff.RemovalEffects)},
		{"refusal", "code", names(diff.RefusalCodes)},
		{"diagnostic", "code", names(diag.Codes)},
	} {
		t.Run(fmt.Sprintf("%s.%s", tt.def, tt.prop), func(t *testing.T) {
			got := schema.Defs[tt.def].Enum
			if tt.prop != "" {
				var p struct {
					Enum []string `json:"enum"`
				}
				if err := json.Unmarshal(schema.Defs[tt.def].Properties[tt.prop], &p); err != nil {
					t.Fatal(err)
				}
				got = p.Enum
			}
			if d := cmp.Diff(tt.want, got); d != "" {
				t.Errorf("docs/plan.schema.json's enum differs from the code's set (-code +schema):\n%s", d)
			}
		})
	}
}
