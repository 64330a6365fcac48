package contract

import (
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"testing"
)

// The newest plugin version here is the one in the source tree: a bump of version.php
// without a line in Plugins (or the reverse) fails here rather than in the field.
func TestNewestIsThePluginInTheTree(t *testing.T) {
	php, err := os.ReadFile(filepath.Join("..", "..", "moodle", "local_enrolctl", "version.php"))
	if err != nil {
		t.Fatal(err)
	}
	version := regexp.MustCompile(`\$plugin->version\s*=\s*(\d+);`).FindSubmatch(php)
	release := regexp.MustCompile(`\$plugin->release\s*=\s*'([^']+)';`).FindSubmatch(php)
	if version == nil || release == nil {
		t.Fatalf("version.php: no $plugin->version or $plugin->release")
	}
	v, _ := strconv.ParseInt(string(version[1]), 10, 64)
	got := Plugin{v, string(release[1])}
	if got != Newest() {
		t.Errorf("moodle/local_enrolctl/version.php is %+v, contract.Newest() is %+v: add the plugin to contract.Plugins", got, Newest())
	}
}

func TestPluginsAscend(t *testing.T) {
	for i := 1; i < len(Plugins); i++ {
		if Plugins[i].Version <= Plugins[i-1].Version {
			t.Errorf("Plugins[%d] = %d after %d: list them oldest first", i, Plugins[i].Version, Plugins[i-1].Version)
		}
	}
	if Oldest().Version != PluginV2 {
		t.Errorf("Oldest() = %d, want Contract v2's %d", Oldest().Version, PluginV2)
	}
}
