package validate

import (
	"bytes"
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/pacheck/pacheck/checks/issue"
)

// TestNoRuleRepeatedInPrinting reads every place the validator and its structural layer make a
// finding (w.add, w.addWant, w.report*, issue.Issue and finding literals), so it covers every rule
// code they can report, and checks that no message starts with its own rule code: every renderer
// (issue.Issue.String, the suites' failure lines, the text formatter) prints "rule: message", so
// such a message printed "cardinality: cardinality: …". Each rule's message is then rendered
// through issue.Issue.String and the text formatter and no printed line may hold the rule twice.
func TestNoRuleRepeatedInPrinting(t *testing.T) {
	sites := findingSites(t, ".", "structure")
	rules := map[string]bool{}
	for _, s := range sites {
		rules[s.rule] = true
		if s.msg == "" {
			continue // a message built at run time: TestMessageOmitsRule covers the common ones
		}
		if strings.HasPrefix(s.msg, s.rule+":") || strings.HasPrefix(s.msg, s.rule+" :") {
			t.Errorf("%s: the message of rule %s starts with the rule: %q", s.pos, s.rule, s.msg)
		}
		is := issue.Issue{Severity: issue.Error, Rule: s.rule, Path: "Patient.x", Message: s.msg}
		var b bytes.Buffer
		f := &textFormatter{w: &b}
		if err := f.Result(FileResult{Path: "in.json", Issues: issue.List{is}}); err != nil {
			t.Fatal(err)
		}
		for _, line := range append(strings.Split(b.String(), "\n"), is.String()) {
			if strings.Contains(line, s.rule+": "+s.rule+":") || strings.Contains(line, ": "+s.rule+": ") && strings.Count(line, " "+s.rule+": ") > 1 {
				t.Errorf("%s: printed line repeats rule %s: %q", s.pos, s.rule, line)
			}
		}
	}
	// the reader must see the rule codes doc.go lists, or it has stopped reading the sites
	for _, want := range []string{"json-syntax", "json-duplicate-key", "json-depth", "json-size", "json-encoding", "not-a-resource",
		"resource-type", "unknown-element", "type", "primitive-format", "empty", "choice-type", "element-sibling", "cardinality",
		"fixed", "pattern", "slicing", "reference-target", "bundle-fullurl", "bundle-link", "extension-unknown", "extension-context",
		"extension-url", "profile-unknown", "profile-type", "binding", "code-unknown", "invariant:", "invariant-not-evaluated"} {
		if !rules[want] {
			t.Errorf("rule %s: no finding site found", want)
		}
	}
	var all []string
	for r := range rules {
		all = append(all, r)
	}
	sort.Strings(all)
	t.Logf("%d finding sites, %d rule codes: %v", len(sites), len(all), all)
}

type findingSite struct {
	pos, rule, msg string // msg: the message's constant beginning, "" when built at run time
}

// findingSites parses the non-test Go files of dirs and returns every finding with its rule code
// (a rule built as "invariant:"+key is "invariant:") and the constant beginning of its message.
func findingSites(t *testing.T, dirs ...string) []findingSite {
	fset := token.NewFileSet()
	consts := map[string]ast.Expr{}     // package-level constants by name (both packages)
	funcs := map[string]*ast.FuncDecl{} // one-return helpers that word a message
	var files []*ast.File
	for _, d := range dirs {
		names, _ := filepath.Glob(filepath.Join(d, "*.go"))
		for _, n := range names {
			if strings.HasSuffix(n, "_test.go") {
				continue
			}
			f, err := parser.ParseFile(fset, n, nil, 0)
			if err != nil {
				t.Fatal(err)
			}
			files = append(files, f)
			for _, decl := range f.Decls {
				switch d := decl.(type) {
				case *ast.GenDecl:
					if d.Tok != token.CONST {
						continue
					}
					for _, sp := range d.Specs {
						vs := sp.(*ast.ValueSpec)
						for i, name := range vs.Names {
							if i < len(vs.Values) {
								consts[name.Name] = vs.Values[i]
							}
						}
					}
				case *ast.FuncDecl:
					if d.Recv == nil && d.Body != nil && len(d.Body.List) == 1 {
						funcs[d.Name.Name] = d
					}
				}
			}
		}
	}
	// str returns the constant beginning of e and whether that is all of it.
	var str func(e ast.Expr, depth int) (string, bool)
	str = func(e ast.Expr, depth int) (string, bool) {
		if depth > 8 {
			return "", false
		}
		switch x := e.(type) {
		case *ast.BasicLit:
			if x.Kind == token.STRING {
				s, err := strconv.Unquote(x.Value)
				return s, err == nil
			}
		case *ast.Ident:
			if v, ok := consts[x.Name]; ok {
				return str(v, depth+1)
			}
		case *ast.SelectorExpr: // structure.RuleX
			if v, ok := consts[x.Sel.Name]; ok {
				return str(v, depth+1)
			}
		case *ast.BinaryExpr:
			if x.Op == token.ADD {
				l, full := str(x.X, depth+1)
				if !full {
					return l, false
				}
				r, rfull := str(x.Y, depth+1)
				return l + r, rfull
			}
		case *ast.CallExpr:
			if sel, ok := x.Fun.(*ast.SelectorExpr); ok && len(x.Args) > 0 {
				if id, ok := sel.X.(*ast.Ident); ok && id.Name == "fmt" && sel.Sel.Name == "Sprintf" {
					f, _ := str(x.Args[0], depth+1)
					if i := strings.IndexByte(f, '%'); i >= 0 {
						return f[:i], false
					}
					return f, true
				}
			}
			if id, ok := x.Fun.(*ast.Ident); ok {
				if fd := funcs[id.Name]; fd != nil {
					if ret, ok := fd.Body.List[0].(*ast.ReturnStmt); ok && len(ret.Results) == 1 {
						s, _ := str(ret.Results[0], depth+1)
						return s, false
					}
				}
			}
		}
		return "", false
	}
	var out []findingSite
	add := func(n ast.Node, rule, msg ast.Expr) {
		r, full := str(rule, 0)
		if r == "" || (!full && !strings.HasSuffix(r, ":")) {
			return // a rule passed through a variable: its origin is a site of its own
		}
		m, _ := str(msg, 0)
		out = append(out, findingSite{pos: fset.Position(n.Pos()).String(), rule: r, msg: m})
	}
	for _, f := range files {
		ast.Inspect(f, func(n ast.Node) bool {
			switch x := n.(type) {
			case *ast.CallExpr:
				sel, ok := x.Fun.(*ast.SelectorExpr)
				if !ok {
					return true
				}
				switch sel.Sel.Name {
				case "add", "addWant": // w.add(sev, rule, elem, suffix, msg, ...)
					if len(x.Args) >= 5 {
						add(x, x.Args[1], x.Args[4])
					}
				case "report", "reportSchemaRule": // w.report(rule, path, msg, diag)
					if len(x.Args) == 4 {
						add(x, x.Args[0], x.Args[2])
					}
				case "reportHere": // w.reportHere(rule, msg)
					if len(x.Args) == 2 {
						add(x, x.Args[0], x.Args[1])
					}
				}
			case *ast.CompositeLit:
				var rule, msg ast.Expr
				for _, el := range x.Elts {
					kv, ok := el.(*ast.KeyValueExpr)
					if !ok {
						continue
					}
					switch k, _ := kv.Key.(*ast.Ident); {
					case k == nil:
					case k.Name == "Rule" || k.Name == "rule":
						rule = kv.Value
					case k.Name == "Message" || k.Name == "message":
						msg = kv.Value
					}
				}
				if rule != nil && msg != nil {
					add(x, rule, msg)
				}
			}
			return true
		})
	}
	if len(out) < 50 {
		t.Fatalf("found only %d finding sites: the reader no longer recognises how findings are made", len(out))
	}
	return out
}
