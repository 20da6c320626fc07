package search

import (
	"context"
	"strings"

	"github.com/pacheck/pacheck/checks/fhirpath"
)

// FHIRPathEvaluator evaluates SearchParameter expressions with checks/fhirpath. Expressions that
// use resolve() (reference target type tests such as where(resolve() is Patient)) go to the
// compact PathEvaluator, which decides the target type from the reference itself as servers do;
// so do expressions the engine refuses.
type FHIRPathEvaluator struct{}

// Eval implements Evaluator.
func (FHIRPathEvaluator) Eval(ctx context.Context, expr string, res map[string]any) ([]Value, error) {
	if strings.Contains(expr, "resolve()") {
		return PathEvaluator{}.Eval(ctx, expr, res)
	}
	e, err := fhirpath.CompileCached(expr)
	if err != nil {
		return PathEvaluator{}.Eval(ctx, expr, res)
	}
	col, err := e.Evaluate(ctx, res, &fhirpath.Env{MaxSteps: 200000})
	if err != nil {
		return PathEvaluator{}.Eval(ctx, expr, res)
	}
	out := make([]Value, 0, len(col))
	for _, it := range col {
		if it.IsFHIR() {
			typ := it.Type().Name
			switch typ {
			case "Element", "BackboneElement":
				typ = ""
			}
			out = append(out, Value{Type: typ, V: it.JSON()})
			continue
		}
		switch v := it.Value().(type) {
		case string, bool:
			out = append(out, Value{V: v})
		default:
			out = append(out, Value{V: it.String()})
		}
	}
	return out, nil
}
