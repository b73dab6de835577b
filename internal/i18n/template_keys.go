package i18n

import (
	"text/template/parse"
)

// TemplateCall is one use of the translation function in a template.
type TemplateCall struct {
	Key   string // "" when the key is not a string literal
	Where string // template name, line and column
}

// TemplateCalls lists every call of funcName (usually "T") in the parsed
// template trees, so that a test can check each key against the catalogs.
// A call whose key is not a literal is returned with an empty Key: such a
// key cannot be checked before run time.
func TemplateCalls(funcName string, trees ...*parse.Tree) []TemplateCall {
	var calls []TemplateCall
	for _, tree := range trees {
		if tree == nil || tree.Root == nil {
			continue
		}
		w := callWalker{fn: funcName, tree: tree}
		w.node(tree.Root)
		calls = append(calls, w.calls...)
	}
	return calls
}

type callWalker struct {
	fn    string
	tree  *parse.Tree
	calls []TemplateCall
}

func (w *callWalker) node(n parse.Node) {
	switch n := n.(type) {
	case *parse.ListNode:
		if n == nil {
			return
		}
		for _, c := range n.Nodes {
			w.node(c)
		}
	case *parse.ActionNode:
		w.pipe(n.Pipe)
	case *parse.IfNode:
		w.branch(&n.BranchNode)
	case *parse.RangeNode:
		w.branch(&n.BranchNode)
	case *parse.WithNode:
		w.branch(&n.BranchNode)
	case *parse.TemplateNode:
		w.pipe(n.Pipe)
	case *parse.PipeNode:
		w.pipe(n)
	case *parse.ChainNode:
		w.node(n.Node)
	}
}

func (w *callWalker) branch(b *parse.BranchNode) {
	w.pipe(b.Pipe)
	w.node(b.List)
	if b.ElseList != nil {
		w.node(b.ElseList)
	}
}

func (w *callWalker) pipe(p *parse.PipeNode) {
	if p == nil {
		return
	}
	for _, cmd := range p.Cmds {
		for i, arg := range cmd.Args {
			if id, ok := arg.(*parse.IdentifierNode); ok && id.Ident == w.fn {
				var call TemplateCall
				call.Where, _ = w.tree.ErrorContext(id)
				if i == 0 && len(cmd.Args) > 1 {
					if s, ok := cmd.Args[1].(*parse.StringNode); ok {
						call.Key = s.Text
					}
				}
				w.calls = append(w.calls, call)
				continue
			}
			w.node(arg)
		}
	}
}
