package tree

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

// nestedJoins is the attack that took 50 s and 3.8 GB: each local joins a list of the
// previous one with itself as the separator, multiplying its size by 15 per level.
func nestedJoins(levels int) string {
	var b strings.Builder
	b.WriteString("locals {\n  l0 = \"xxxxxxxxxxxxxxxx\"\n")
	for i := 1; i <= levels; i++ {
		p := fmt.Sprintf("local.l%d", i-1)
		fmt.Fprintf(&b, "  l%d = join(%s, [%s])\n", i, p, strings.Repeat(p+", ", 7)+p)
	}
	fmt.Fprintf(&b, "}\nv = local.l%d\n", levels)
	return b.String()
}

// doubledTemplates doubles a string per level without any function.
func doubledTemplates(levels int) string {
	var b strings.Builder
	b.WriteString("locals {\n  t0 = \"xxxxxxxxxxxxxxxx\"\n")
	for i := 1; i <= levels; i++ {
		fmt.Fprintf(&b, "  t%d = \"${local.t%d}${local.t%d}\"\n", i, i-1, i-1)
	}
	fmt.Fprintf(&b, "}\nv = local.t%d\n", levels)
	return b.String()
}

func TestHCLEvaluationIsBounded(t *testing.T) {
	hundred := "[" + strings.Repeat(`"abcdefgh", `, 99) + `"abcdefgh"]`
	users := make([]string, 5000)
	for i := range users {
		users[i] = fmt.Sprintf("%q", fmt.Sprintf("user%05d", i))
	}
	tests := []struct {
		name, src string
		want      string // the first error, "" for none
	}{
		{"nested joins, 5 levels", nestedJoins(5), "t.hcl:7:8: Error in function call: Call to function \"join\" failed: join would produce about 12 MiB, more than the 4 MiB an HCL value may be."},
		{"nested joins, the 1 KB attack", nestedJoins(9), "t.hcl:7:8: Error in function call: Call to function \"join\" failed: join would produce about 12 MiB"},
		{"templates doubling", doubledTemplates(40), "t.hcl:21:9: this expression may produce 8 MiB, more than the 4 MiB an HCL value may be"},
		{"for expressions multiplying", "locals {\n  h = " + hundred + "\n  x = [for a in local.h : [for b in local.h : [for c in local.h : \"${a}${b}${c}\"]]]\n}\nv = local.x\n",
			"t.hcl:3:7: this expression may produce about 54 MiB"},
		{"splat over a product", "locals {\n  h = " + hundred + "\n  x = [for a in local.h : [for b in local.h : {n = \"${a}${b}\"}]]\n  y = [for r in local.x : r[*].n]\n}\n", ""},
		{"format width", "v = format(\"%999999999d\", 1)\n", "t.hcl:1:5: Error in function call: Call to function \"format\" failed: format would produce about 954 MiB"},
		{"format width from a variable", "variable \"f\" { default = \"%999999999d\" }\nv = format(var.f, 1)\n",
			"t.hcl:2:5: Error in function call: Call to function \"format\" failed: format would produce about 954 MiB, more than the 4 MiB an HCL value may be."},
		{"replace of every gap", "locals {\n  s = \"" + strings.Repeat("x", 4000) + "\"\n  r = replace(local.s, \"\", local.s)\n}\n", "t.hcl:3:7: Error in function call: Call to function \"replace\" failed: replace would produce about 15 MiB"},
		{"split into single letters", "locals {\n  s = \"" + strings.Repeat("x", 400000) + "\"\n  r = split(\"\", local.s)\n}\n", "t.hcl:3:7: Error in function call: Call to function \"split\" failed: split would produce about 6 MiB"},
		{"work of a file", "locals {\n  s = \"" + strings.Repeat("x", 900000) + "\"\n}\n" + strings.Repeat("v = local.s\n", 1) + items(40, "local.s"),
			"evaluating this file needs more than 32 MiB of work; stopped here"},
		{"parentheses nested", "v = " + strings.Repeat("(", 20000) + "1" + strings.Repeat(")", 20000) + "\n", "t.hcl:1:69: expression nested too deeply: more than 64 brackets, quotes, interpolations and template directives open at once"},
		{"negations chained", "v = " + strings.Repeat("!", 20000) + "true\n", "t.hcl:1:133: expression too long: more than 128 operators and bracketed terms in one expression"},
		{"sums chained", "v = 1" + strings.Repeat("+1", 50000) + "\n", "t.hcl:1:262: expression too long: more than 128 operators and bracketed terms in one expression"},
		{"templates nested", "v = " + strings.Repeat(`"${`, 5000) + "1" + strings.Repeat(`}"`, 5000) + "\n", "t.hcl:1:101: expression nested too deeply"},
		// What specs do stays well within the limits.
		{"50,000 users in one list", "v = [" + strings.Repeat("\"user12345\", ", 50000) + "]\n", ""},
		{"5,000 users formatted", "locals {\n  users = [" + strings.Join(users, ", ") + "]\n  mails = [for u in local.users : format(\"%s@univ.example\", upper(u))]\n  all = join(\", \", local.mails)\n}\nv = local.all\n", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			start := time.Now()
			_, ds := ParseHCL("t.hcl", []byte(tt.src), rules)
			if took := time.Since(start); took > 20*time.Second {
				t.Errorf("took %s: evaluation is not bounded", took)
			}
			errs := ds.Errors()
			if tt.want == "" {
				if len(errs) > 0 {
					t.Fatalf("unexpected errors:\n%s", errs.Error())
				}
				return
			}
			if len(errs) == 0 || !strings.Contains(errs[0].Error(), tt.want) {
				t.Fatalf("first error:\n%s\nwant it to contain:\n%s", errs.Error(), tt.want)
			}
		})
	}
}

func items(n int, value string) string {
	var b strings.Builder
	for i := range n {
		fmt.Fprintf(&b, "item \"i%d\" { a = %s }\n", i, value)
	}
	return b.String()
}

func objectItems(n int) string {
	var b strings.Builder
	for i := range n {
		fmt.Fprintf(&b, "  a%d = 1 + 1\n", i)
	}
	return b.String()
}

func firstLine(s string) string {
	if i := strings.Index(s, "\n"); i >= 0 {
		return s[:i]
	}
	return s
}

// Chains the parser and the evaluator recurse on, though no bracket stays open.
func TestHCLChainsAreBounded(t *testing.T) {
	tests := []struct{ name, src, want string }{
		{"sums across lines in parentheses", "v = (1" + strings.Repeat("\n+1", 30000) + ")\n",
			"t.hcl:130:1: expression too long: more than 128 operators and bracketed terms in one expression"},
		{"index chain", "locals { i = 0 }\nv = [1]" + strings.Repeat("[local.i]", 10000) + "\n",
			"t.hcl:2:1151: expression too long: more than 128 operators and bracketed terms in one expression"},
		{"template directives nested", "v = \"" + strings.Repeat("%{if true}", 10000) + "x" + strings.Repeat("%{endif}", 10000) + "\"\n",
			"t.hcl:1:626: expression nested too deeply: more than 64 brackets, quotes, interpolations and template directives open at once"},
		// Flat lists of parts are no chains.
		{"many interpolations", "locals { a = \"x\" }\nv = \"" + strings.Repeat("${local.a}", 1000) + "\"\n", ""},
		{"many directives in a row", "v = \"" + strings.Repeat("%{if true}x%{endif}", 1000) + "\"\n", ""},
		{"a long list over lines", "v = [\n" + strings.Repeat("  1 + 1,\n", 1000) + "]\n", ""},
		{"object items over lines", "v = {\n" + objectItems(200) + "}\n", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, ds := ParseHCL("t.hcl", []byte(tt.src), rules)
			errs := ds.Errors()
			if tt.want == "" {
				if len(errs) > 0 {
					t.Fatalf("unexpected errors:\n%s", firstLine(errs.Error()))
				}
				return
			}
			if len(errs) == 0 || !strings.Contains(errs[0].Error(), tt.want) {
				t.Fatalf("first error:\n%s\nwant it to contain:\n%s", firstLine(errs.Error()), tt.want)
			}
		})
	}
}

// HCL numbers have arbitrary precision: ten characters of source can stand for a number
// whose text takes minutes and gigabytes to write.
func TestHCLNumbersAreBounded(t *testing.T) {
	tests := []struct{ name, src, want string }{
		{"huge literal", "v = 1e99999999\n", "t.hcl:1:5: number of more than 400 digits, the most a spec may write"},
		{"huge literal in a template", "v = \"${1e99999999}\"\n", "t.hcl:1:8: number of more than 400 digits"},
		{"tiny literal", "v = 1e-99999999\n", "t.hcl:1:5: number of more than 400 digits"},
		{"products across locals", "locals {\n  a = 1e300\n  b = local.a * local.a\n}\nv = local.b\n",
			"t.hcl:3:7: this arithmetic may make a number of more than 400 digits"},
		{"text read as a number", "locals {\n  s = \"1e99999999\"\n}\nv = \"${local.s * 1}\"\n", "t.hcl:4:8: this arithmetic may make a number of more than 400 digits"},
		{"negated text", "v = -\"1e99999999\"\n", "t.hcl:1:5: this arithmetic may make a number of more than 400 digits"},
		{"template read as a number", "variable \"e\" { default = 99999999 }\nv = \"1e${var.e}\" * 1\n", "t.hcl:2:5: arithmetic on text made while the file is read"},
		{"format of numeric text", "locals {\n  s = \"1e99999999\"\n}\nv = format(\"%d\", local.s)\n", "format of a number of more than 400 digits"},
		{"ordinary arithmetic", "variable \"n\" { default = 3 }\nv = var.n * 1.5 + 2e3 - 10 % 3\nw = \"${var.n * 2}\"\n", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			done := make(chan struct{})
			var errs []string
			go func() {
				defer close(done)
				_, ds := ParseHCL("t.hcl", []byte(tt.src), rules)
				for _, d := range ds.Errors() {
					errs = append(errs, d.Error())
				}
			}()
			select {
			case <-done:
			case <-time.After(20 * time.Second):
				t.Fatal("did not finish: a number is being written out")
			}
			if tt.want == "" {
				if len(errs) > 0 {
					t.Fatalf("unexpected errors: %q", errs)
				}
				return
			}
			if len(errs) == 0 || !strings.Contains(errs[0], tt.want) {
				t.Fatalf("errors %q, want the first to contain %q", errs, tt.want)
			}
		})
	}
}

// Many locals take time in proportion to their number, whatever their order: 8,000 took
// 30 s when every local rebuilt an object of all of them, in passes until no progress.
func TestHCLManyLocals(t *testing.T) {
	const n = 20000
	var chain, flat strings.Builder
	chain.WriteString("locals {\n")
	flat.WriteString("locals {\n")
	for i := range n {
		fmt.Fprintf(&chain, "  l%d = local.l%d\n", i, i+1) // each refers to the next one
		fmt.Fprintf(&flat, "  l%d = %d\n", i, i)
	}
	fmt.Fprintf(&chain, "  l%d = \"end\"\n}\nv = local.l0\n", n)
	flat.WriteString("}\nv = local.l19999\n")
	for name, src := range map[string]string{"chain": chain.String(), "flat": flat.String()} {
		done := make(chan *Node, 1)
		go func() {
			n, ds := ParseHCL("t.hcl", []byte(src), rules)
			if ds.HasErrors() {
				t.Errorf("%s: %s", name, firstLine(ds.Error()))
			}
			done <- n
		}()
		select {
		case n := <-done:
			if n != nil && (len(n.Fields) != 1 || n.Fields[0].Value.Text == "") {
				t.Errorf("%s: v was not evaluated: %+v", name, n.Fields)
			}
		case <-time.After(20 * time.Second):
			t.Fatalf("%s: %d locals did not finish in 20 s", name, n)
		}
	}
}
