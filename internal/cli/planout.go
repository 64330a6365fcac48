package cli

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"

	"github.com/enrolctl/enrolctl/internal/planfile"
	"github.com/enrolctl/enrolctl/internal/safefile"
)

// refuseNonPlan refuses to let a saved plan replace a file that is not one: `plan -out
// specs/algo.yaml` or `-out enrolctl.yaml` used to overwrite the spec or the
// configuration without asking. A missing or empty file, or a plan document of any
// version, may be replaced. shown is the path as the user gave it.
func refuseNonPlan(path, shown string) error {
	info, err := os.Stat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("saving the plan: %w", err)
	}
	if !info.Mode().IsRegular() {
		return fmt.Errorf("saving the plan: %s is not a regular file; nothing was written", shown)
	}
	if info.Size() == 0 {
		return nil
	}
	data, err := safefile.Read(path, planfile.MaxSize, "plan file")
	var doc map[string]json.RawMessage
	if err != nil || json.Unmarshal(data, &doc) != nil || doc["format_version"] == nil {
		return fmt.Errorf("saving the plan: %s exists and is not a plan file; nothing was written (remove it, or save the plan elsewhere)", shown)
	}
	return nil
}
