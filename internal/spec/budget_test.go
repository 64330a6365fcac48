//go:build linux

package spec

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// doublingFile is a course whose local doubles a 16-byte string `levels` times.
func doublingFile(i, levels int) string {
	var b strings.Builder
	b.WriteString("locals {\n  t0 = \"xxxxxxxxxxxxxxxx\"\n")
	for l := 1; l <= levels; l++ {
		fmt.Fprintf(&b, "  t%d = \"${local.t%d}${local.t%d}\"\n", l, l-1, l-1)
	}
	fmt.Fprintf(&b, "}\ncourse \"C%03d\" {\n  groups = [local.t%d]\n}\n", i, levels)
	return b.String()
}

// listFile is a course whose local doubles a one-item list `levels` times.
func listFile(i, levels int) string {
	var b strings.Builder
	b.WriteString("locals {\n  t0 = [\"abcdefgh\"]\n")
	for l := 1; l <= levels; l++ {
		fmt.Fprintf(&b, "  t%d = concat(local.t%d, local.t%d)\n", l, l-1, l-1)
	}
	fmt.Fprintf(&b, "}\ncourse \"C%03d\" {\n  groups = local.t%d\n}\n", i, levels)
	return b.String()
}

// The budget of all HCL files: each file below is within its own limits, but a folder
// of them is refused, at the expression where the load's budget ran out.
func TestHCLBudgetAcrossFiles(t *testing.T) {
	t.Run("lists doubled in 30 files", func(t *testing.T) {
		dir := t.TempDir()
		for i := range 30 {
			write(t, dir, fmt.Sprintf("c%03d.hcl", i), listFile(i, 13))
		}
		set := loadWithin(t, dir)
		wantBudgetError(t, set, "of values together (MaxHCLLoadValues, the budget of all HCL spec files); stopped here")
	})
	t.Run("one file alone is fine", func(t *testing.T) {
		dir := t.TempDir()
		write(t, dir, "c.hcl", listFile(0, 13))
		set := loadWithin(t, dir)
		for _, d := range set.Diagnostics {
			if strings.Contains(d.Message, "budget") {
				t.Errorf("one file was refused: %s", d)
			}
		}
	})
	t.Run("a large real load is fine", func(t *testing.T) {
		// 100 courses of 1,000 users each, written in HCL.
		dir := t.TempDir()
		for i := range 100 {
			var users []string
			for u := range 1000 {
				users = append(users, fmt.Sprintf("%q", fmt.Sprintf("user%03d%04d", i, u)))
			}
			write(t, dir, fmt.Sprintf("c%03d.hcl", i), fmt.Sprintf("course \"C%03d\" {\n  manual {\n    users = [%s]\n  }\n}\n", i, strings.Join(users, ", ")))
		}
		set := loadWithin(t, dir)
		if set.Diagnostics.HasErrors() {
			t.Fatalf("a real load was refused:\n%s", strings.Join(diagStrings(set.Diagnostics.Errors()), "\n"))
		}
		if len(set.Courses) != 100 {
			t.Errorf("%d courses, want 100", len(set.Courses))
		}
	})
}

func wantBudgetError(t *testing.T, set *Set, want string) {
	t.Helper()
	for _, d := range set.Diagnostics.Errors() {
		if strings.Contains(d.Message, want) {
			if d.Line == 0 || d.Col == 0 || !strings.HasSuffix(d.File, ".hcl") {
				t.Errorf("budget error without file:line:col: %s", d)
			}
			return
		}
	}
	t.Errorf("no error %q; got:\n%s", want, strings.Join(diagStrings(set.Diagnostics), "\n"))
}

// 400 small files that each double a local 15 times took validate to 1.49 GB. The load
// runs in a child process, which reports its own peak memory (VmHWM: the rusage of a
// child also counts the parent's memory it was forked with).
func TestHCLBudgetBoundsPeakMemory(t *testing.T) {
	if dir := os.Getenv("ENROLCTL_TEST_BUDGET_DIR"); dir != "" {
		set := LoadDir(dir, Options{Location: paris})
		fmt.Println(strings.Join(diagStrings(set.Diagnostics.Errors()), "\n"))
		status, err := os.ReadFile("/proc/self/status")
		if err != nil {
			t.Fatal(err)
		}
		for _, line := range strings.Split(string(status), "\n") {
			if strings.HasPrefix(line, "VmHWM:") {
				fmt.Println("peak", strings.Fields(line)[1])
			}
		}
		return
	}
	dir := t.TempDir()
	for i := range 400 {
		write(t, dir, fmt.Sprintf("c%03d.hcl", i), doublingFile(i, 15))
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestHCLBudgetBoundsPeakMemory$", "-test.count=1")
	cmd.Env = append(os.Environ(), "ENROLCTL_TEST_BUDGET_DIR="+dir)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("child: %v\n%s", err, out)
	}
	if !strings.Contains(string(out), filepath.Join(dir, "c0")) || !strings.Contains(string(out), "(MaxHCLLoadWork, the budget of all HCL spec files); stopped here") {
		t.Errorf("the load was not refused for its budget:\n%.2000s", out)
	}
	m := regexp.MustCompile(`(?m)^peak (\d+)$`).FindStringSubmatch(string(out))
	if m == nil {
		t.Fatalf("the child did not report its peak memory:\n%.2000s", out)
	}
	peak, _ := strconv.ParseInt(m[1], 10, 64)
	peak <<= 10 // kB
	t.Logf("peak memory of the load: %d MiB", peak>>20)
	if peak > 200<<20 {
		t.Errorf("loading 400 files peaked at %d MiB, want at most 200 MiB", peak>>20)
	}
}
