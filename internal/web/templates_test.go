package web

import (
	"fmt"
	"regexp"
	"strings"
	"testing"
	"text/template/parse"
	"unicode"
	"unicode/utf8"

	"csphub/internal/i18n"
)

// allTrees parses every page (with the layout) and returns each distinct
// template tree once.
func allTrees(t *testing.T) []*parse.Tree {
	t.Helper()
	h, err := New(Options{Dev: true})
	if err != nil {
		t.Fatal(err)
	}
	l := h.i18n.Default()
	seen := map[string]bool{}
	var trees []*parse.Tree
	for _, name := range pageNames {
		tmpl, err := parsePage(h.funcs(l), name)
		if err != nil {
			t.Fatal(err)
		}
		for _, sub := range tmpl.Templates() {
			if sub.Tree == nil || sub.Tree.Root == nil {
				continue
			}
			id := sub.Tree.ParseName + "/" + sub.Name()
			if seen[id] {
				continue
			}
			seen[id] = true
			trees = append(trees, sub.Tree)
		}
	}
	if len(trees) < len(pageNames) {
		t.Fatalf("only %d templates found", len(trees))
	}
	return trees
}

// TestTemplateKeysExist proves that every T "key" in any template exists in
// every catalog, and that no template computes a key at run time (which no
// test could check).
func TestTemplateKeysExist(t *testing.T) {
	b, err := i18n.New(i18n.Options{Strict: true})
	if err != nil {
		t.Fatal(err)
	}
	calls := i18n.TemplateCalls("T", allTrees(t)...)
	if len(calls) < 20 {
		t.Fatalf("only %d T calls found; is the walker broken?", len(calls))
	}
	for _, c := range calls {
		if c.Key == "" {
			t.Errorf("%s: T called with a computed key", c.Where)
			continue
		}
		for _, tag := range b.Languages() {
			if !b.For(tag.String()).Has(c.Key) {
				t.Errorf("%s: key %q missing from the %s catalog", c.Where, c.Key, tag)
			}
		}
	}
}

// TestTemplatesHaveNoHardCodedText proves that no visible word is written
// in a template: letters may appear only inside markup (tag and attribute
// names, non-visible attribute values) or inside {{ }}.
func TestTemplatesHaveNoHardCodedText(t *testing.T) {
	for _, tree := range allTrees(t) {
		for _, p := range visibleTextProblems(tree) {
			t.Errorf("%s: %s", tree.ParseName, p)
		}
	}
}

// The checker itself must catch what it is there to catch.
func TestVisibleTextCheckerCatchesText(t *testing.T) {
	bad := map[string]string{
		"text node":         `<p>Hello</p>`,
		"after action":      `<p>{{T "a.b"}} world</p>`,
		"inside branch":     `{{if .X}}<span>Yes</span>{{end}}`,
		"alt attribute":     `<img alt="Logo" src="/x.png">`,
		"aria-label":        `<nav aria-label="Main">`,
		"title attribute":   `<a href="/" title="Home">{{T "a.b"}}</a>`,
		"placeholder":       `<input placeholder='Search'>`,
		"literal in action": `<p>{{"Hello"}}</p>`,
		"unquoted title":    `<abbr title=CSP>{{T "a.b"}}</abbr>`,
	}
	for name, src := range bad {
		tree := mustParse(t, src)
		if len(visibleTextProblems(tree)) == 0 {
			t.Errorf("%s: %s not reported", name, src)
		}
	}
	good := []string{
		`<!doctype html><html lang="{{.Lang}}" dir="ltr"><meta charset="utf-8">`,
		`<a class="skip-link" href="#main">{{T "a.b"}}</a>`,
		`<nav aria-label="{{T "a.b"}}"><ul><li>{{.Name}}</li></ul></nav>`,
		`<!-- a comment with words --><p>{{T "a.b"}} – {{T "c.d"}} &nbsp; &rarr; 1, 2.</p>`,
		`<button type="submit" name="lang" value="{{.Tag}}"{{if .C}} aria-current="true"{{end}}>{{T "a.b"}}</button>`,
		`<style>body { color: red }</style>`,
	}
	for _, src := range good {
		if p := visibleTextProblems(mustParse(t, src)); len(p) != 0 {
			t.Errorf("%s: false alarm %v", src, p)
		}
	}
}

func mustParse(t *testing.T, src string) *parse.Tree {
	t.Helper()
	trees, err := parse.Parse("test", src, "{{", "}}", map[string]any{"T": fmt.Sprint})
	if err != nil {
		t.Fatal(err)
	}
	return trees["test"]
}

// hole stands for any {{ }} action in the flattened template text.
const hole = "\x00"

// visibleAttrs are attributes whose values browsers show or read aloud.
var visibleAttrs = map[string]bool{
	"alt": true, "title": true, "placeholder": true, "label": true,
	"aria-label": true, "aria-description": true, "aria-roledescription": true,
	"aria-valuetext": true, "aria-placeholder": true,
}

var (
	attrPattern   = regexp.MustCompile(`([A-Za-z_:][-A-Za-z0-9_:.]*)\s*=\s*("[^"]*"|'[^']*'|[^\s"'>]+)`)
	entityPattern = regexp.MustCompile(`^&(#[0-9]+|#[xX][0-9a-fA-F]+|[A-Za-z][A-Za-z0-9]*);`)
)

// visibleTextProblems flattens a template (each action becomes a hole, each
// branch's body is kept) and scans the result as HTML, reporting letters in
// text content or in visible attributes.
func visibleTextProblems(tree *parse.Tree) []string {
	var sb strings.Builder
	var problems []string
	var flatten func(n parse.Node)
	flatten = func(n parse.Node) {
		switch n := n.(type) {
		case *parse.ListNode:
			if n == nil {
				return
			}
			for _, c := range n.Nodes {
				flatten(c)
			}
		case *parse.TextNode:
			sb.Write(n.Text)
		case *parse.ActionNode:
			if len(n.Pipe.Cmds) == 1 && len(n.Pipe.Cmds[0].Args) == 1 {
				if s, ok := n.Pipe.Cmds[0].Args[0].(*parse.StringNode); ok && hasLetter(s.Text) {
					loc, _ := tree.ErrorContext(n)
					problems = append(problems, fmt.Sprintf("%s: literal text %q printed by an action", loc, s.Text))
				}
			}
			sb.WriteString(hole)
		case *parse.IfNode:
			flattenBranch(&sb, &n.BranchNode, flatten)
		case *parse.RangeNode:
			flattenBranch(&sb, &n.BranchNode, flatten)
		case *parse.WithNode:
			flattenBranch(&sb, &n.BranchNode, flatten)
		default:
			sb.WriteString(hole)
		}
	}
	flatten(tree.Root)
	return append(problems, scanHTML(sb.String())...)
}

func flattenBranch(sb *strings.Builder, b *parse.BranchNode, flatten func(parse.Node)) {
	sb.WriteString(hole)
	flatten(b.List)
	sb.WriteString(hole)
	if b.ElseList != nil {
		flatten(b.ElseList)
		sb.WriteString(hole)
	}
}

func scanHTML(s string) []string {
	var problems []string
	report := func(what string, at int) {
		end := min(len(s), at+40)
		problems = append(problems, fmt.Sprintf("%s near %q", what, strings.ReplaceAll(s[max(0, at-20):end], hole, "{{…}}")))
	}
	for i := 0; i < len(s); {
		switch {
		case strings.HasPrefix(s[i:], "<!--"):
			end := strings.Index(s[i:], "-->")
			if end < 0 {
				return problems
			}
			i += end + 3
		case s[i] == '<' && i+1 < len(s) && (isASCIILetter(s[i+1]) || s[i+1] == '/' || s[i+1] == '!'):
			end := tagEnd(s, i)
			tag := s[i:end]
			for _, m := range attrPattern.FindAllStringSubmatch(tag, -1) {
				if visibleAttrs[strings.ToLower(m[1])] && hasLetter(m[2]) {
					report("hard-coded "+m[1]+" attribute", i)
				}
			}
			i = end
			// Style and script bodies are not text.
			if name := tagName(tag); name == "style" || name == "script" {
				closeAt := strings.Index(strings.ToLower(s[i:]), "</"+name)
				if closeAt < 0 {
					return problems
				}
				i += closeAt
			}
		case s[i] == '&':
			if m := entityPattern.FindString(s[i:]); m != "" {
				i += len(m)
				continue
			}
			i++
		default:
			r, size := utf8.DecodeRuneInString(s[i:])
			if unicode.IsLetter(r) {
				report("hard-coded text", i)
				// Skip the rest of the word so one word is one report.
				for i < len(s) {
					r, size = utf8.DecodeRuneInString(s[i:])
					if !unicode.IsLetter(r) {
						break
					}
					i += size
				}
				continue
			}
			i += size
		}
	}
	return problems
}

// tagEnd returns the index just past the '>' closing the tag at i, skipping
// quoted attribute values.
func tagEnd(s string, i int) int {
	var quote byte
	for j := i + 1; j < len(s); j++ {
		c := s[j]
		switch {
		case quote != 0:
			if c == quote {
				quote = 0
			}
		case c == '"' || c == '\'':
			quote = c
		case c == '>':
			return j + 1
		}
	}
	return len(s)
}

func tagName(tag string) string {
	name := strings.TrimLeft(tag, "</!")
	if i := strings.IndexFunc(name, func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) }); i >= 0 {
		name = name[:i]
	}
	return strings.ToLower(name)
}

func isASCIILetter(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }

func hasLetter(s string) bool { return strings.IndexFunc(s, unicode.IsLetter) >= 0 }
