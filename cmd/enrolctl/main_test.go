package main

import (
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// The binary must not call methods by reflection (reflect.Value.Method, MethodByName):
// the linker, which then cannot tell which methods are called, keeps every exported
// method of every type, a third more binary and 2 to 4 MB more memory in every run
// (the sandbox plan's 30 MiB, issue 20). text/template does (cobra's Set*Template
// methods link it, so enrolctl leaves them alone).
func TestBinaryCallsNoMethodByReflection(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "enrolctl")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	out, err := exec.Command("go", "tool", "nm", bin).CombinedOutput()
	if err != nil {
		t.Fatalf("go tool nm: %v\n%s", err, out)
	}
	for line := range strings.Lines(string(out)) {
		if f := strings.Fields(line); len(f) == 3 && (f[2] == "reflect.Value.Method" || f[2] == "reflect.Value.MethodByName") {
			t.Errorf("the binary links %s; see this test's comment", f[2])
		}
	}
}
