package password

import (
	_ "embed"
	"strings"
	"sync"
)

// common.txt lists well-known most-used and breached passwords, one per
// line, most common first. Entries shorter than MinLength still matter:
// Check compares them with the password stripped of decorations, so
// "Monkey2024!" is refused for "monkey".
//
//go:embed common.txt
var commonText string

// commonPasswords is built on first use so that binaries that never check
// a password do not pay for it at start.
var commonPasswords = sync.OnceValue(func() map[string]struct{} {
	set := make(map[string]struct{}, 2048)
	for line := range strings.SplitSeq(commonText, "\n") {
		if w := strings.ToLower(strings.TrimSpace(line)); w != "" {
			set[w] = struct{}{}
		}
	}
	return set
})
