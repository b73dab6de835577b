// Package csphub holds the domain of a two-tier Cloud Solution Provider
// program: the parties, the rules that connect them, and the vocabulary of
// errors every layer speaks. It imports no infrastructure; the store, the
// HTTP layers and the workers depend on it, never the reverse.
package csphub
