package main

import (
	"fmt"
	"io"
	"slices"
	"sort"
	"strings"

	"github.com/alecthomas/kong"
	kongyaml "github.com/alecthomas/kong-yaml"
	"go.yaml.in/yaml/v3"

	"csphub/internal/config"
)

// yamlLoader reads the configuration file. Keys are the flag names, flat
// ("smtp-host: ...") or nested ("smtp: {host: ...}"); an unknown key is an
// error rather than a silently ignored typo.
func yamlLoader(r io.Reader) (kong.Resolver, error) {
	raw, err := io.ReadAll(r)
	if err != nil {
		return nil, err
	}
	var doc map[string]any
	if err := yaml.Unmarshal(raw, &doc); err != nil {
		return nil, fmt.Errorf("configuration file: %w", err)
	}
	known := map[string]bool{}
	for _, s := range (&config.Config{}).Settings() {
		known[s.Name] = true
	}
	var unknown []string
	for _, k := range flatten("", doc) {
		if !known[k] {
			unknown = append(unknown, k)
		}
	}
	if len(unknown) > 0 {
		sort.Strings(unknown)
		return nil, fmt.Errorf("configuration file: unknown setting(s) %s (see `csphub config`)", strings.Join(unknown, ", "))
	}
	return kongyaml.Loader(strings.NewReader(string(raw)))
}

func flatten(prefix string, m map[string]any) []string {
	var out []string
	for k, v := range m {
		name := k
		if prefix != "" {
			name = prefix + "-" + k
		}
		if sub, ok := v.(map[string]any); ok {
			out = append(out, flatten(name, sub)...)
			continue
		}
		out = append(out, name)
	}
	slices.Sort(out)
	return out
}
