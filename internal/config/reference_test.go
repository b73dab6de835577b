package config

import (
	"flag"
	"os"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite docs/configuration.md from the configuration struct")

const referencePath = "../../docs/configuration.md"

// TestConfigurationReferenceIsCurrent keeps docs/configuration.md the
// reference the struct generates: a setting added, renamed or
// re-documented without regenerating it fails here.
func TestConfigurationReferenceIsCurrent(t *testing.T) {
	want := Reference()
	if *update {
		if err := os.WriteFile(referencePath, []byte(want), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	got, err := os.ReadFile(referencePath)
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != want {
		t.Fatalf("%s is out of date: run go test ./internal/config -update", referencePath)
	}
	// Every setting is in it, under its flag and its variable.
	for _, s := range (&Config{}).Settings() {
		if !strings.Contains(want, "`--"+s.Name+"`") || !strings.Contains(want, "`"+s.Env+"`") {
			t.Errorf("setting %s (%s) missing from the reference", s.Name, s.Env)
		}
	}
}
