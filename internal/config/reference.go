package config

import (
	"fmt"
	"strings"
)

// Reference is the configuration reference in Markdown, generated from
// the struct tags: docs/configuration.md is this text, and a test keeps
// it so.
func Reference() string {
	var b strings.Builder
	b.WriteString("# Configuration reference\n\n")
	b.WriteString("Generated from csphub's configuration struct (`internal/config`); `go test ./internal/config -update`\n")
	b.WriteString("rewrites it. Every setting is a flag, an environment variable and a key of the optional YAML\n")
	b.WriteString("file given with `--config` (the flag's name, flat as `smtp-host: ...` or nested as\n")
	b.WriteString("`smtp: {host: ...}`). Flags win over the environment, which wins over the file, which wins\n")
	b.WriteString("over the defaults. `csphub config` prints the effective values, secrets redacted.\n\n")
	b.WriteString("| flag | environment | default | meaning |\n|---|---|---|---|\n")
	for _, s := range (&Config{}).Settings() {
		def := s.Default
		switch {
		case def == "" && s.Value == "(auto)":
			def = "(automatic)"
		case def == "" && s.Value == "false":
			def = "`false`"
		case def == "":
			def = "(empty)"
		default:
			def = "`" + def + "`"
		}
		help := strings.NewReplacer("|", `\|`, "<", "&lt;", ">", "&gt;").Replace(s.Help)
		if s.Secret {
			help += " Secret: redacted in `csphub config`."
		}
		fmt.Fprintf(&b, "| `--%s` | `%s` | %s | %s |\n", s.Name, s.Env, def, help)
	}
	return b.String()
}
