package validate

import (
	"bufio"
	"context"
	_ "embed"
	"fmt"
	"io"
	"strings"

	"github.com/pacheck/pacheck/checks/fhirpath"
	"github.com/pacheck/pacheck/checks/issue"
)

//go:embed skipped-invariants.txt
var skippedInvariantsTxt string

// SkippedInvariants maps an invariant key to the documented reason it is not evaluated.
var SkippedInvariants = func() map[string]string {
	m := map[string]string{}
	sc := bufio.NewScanner(strings.NewReader(skippedInvariantsTxt))
	for sc.Scan() {
		line := sc.Text()
		if line == "" || line[0] == '#' {
			continue
		}
		k, why, _ := strings.Cut(line, "\t")
		m[k] = why
	}
	return m
}()

// correctedExpressions maps published invariant expressions that are not valid FHIRPath for every
// instance they are meant to accept to the publisher's own correction, which is evaluated instead.
// Only texts whose intent is documented (an xpath, or a later version of the same invariant) are
// listed; the engine itself stays strict.
var correctedExpressions = map[string]string{
	// pd-1 (US Core 3.1.1 to 6.1.0, Da Vinci HRex 1.0.0 PractitionerRole): "telecom or endpoint".
	// FHIRPath's singleton evaluation of collections makes 'or' an error when telecom has two or more
	// items (the usual case), and the result is empty, which is no failure, when neither is present:
	// as published it can never fail. Its xpath exists(f:telecom) or exists(f:endpoint) and US Core
	// 7.0.0's expression (this replacement) say what it means.
	"telecom or endpoint": "telecom.exists() or endpoint.exists()",
}

type invariantEngine interface {
	compile(c *Constraint)
	eval(w *walker, c *Constraint, node any) (bool, error)
}

type fhirpathEngine struct{}

func newInvariantEngine() invariantEngine { return fhirpathEngine{} }

func (fhirpathEngine) compile(c *Constraint) {
	if why, ok := SkippedInvariants[c.Key]; ok {
		c.skip = why
		return
	}
	expr := c.Expression
	if expr == "htmlChecks()" {
		c.skip = "evaluated natively on the XHTML text (narrative.go)"
		return
	}
	if fix, ok := correctedExpressions[expr]; ok {
		expr = fix
	}
	if fn, ok := nativeInvariants[expr]; ok {
		c.native = fn
	}
	if fn, ok := nativePrechecks[expr]; ok {
		c.precheck = fn
	}
	x, err := fhirpath.CompileCached(expr)
	if err != nil {
		c.skip = "does not compile: " + err.Error()
		return
	}
	c.compiled = x
}

func (fhirpathEngine) eval(w *walker, c *Constraint, node any) (bool, error) {
	x := c.compiled.(*fhirpath.Expression)
	var res any
	if f := len(w.frames); f > 0 {
		res = w.frames[f-1].res
	}
	env := w.env
	env.Resource = res
	env.RootResource = w.rootResource()
	env.Context = nil
	out, err := x.Evaluate(w.ctx, node, &env)
	if err != nil {
		return false, err
	}
	if len(out) == 1 {
		if b, ok := out[0].Value().(bool); ok {
			return b, nil
		}
	}
	return true, nil
}

// initEnv sets the walker's reusable FHIRPath environment hooks.
func (w *walker) initEnv() {
	w.env = fhirpath.Env{
		Resolver: func(_ context.Context, ref string) (any, error) {
			if r := w.resolveRef(ref); r != nil {
				return r, nil
			}
			return nil, nil
		},
		MemberOf: func(_ context.Context, v any, vs string) (bool, error) {
			if it, ok := v.(fhirpath.Item); ok {
				v = it.JSON()
				if v == nil {
					v = it.Value()
				}
			}
			switch w.inValueSet(vs, v) {
			case memberYes:
				return true, nil
			case memberNo:
				return false, nil
			}
			return false, fmt.Errorf("memberOf(%s): not checked: no terminology server", vs)
		},
		ConformsTo: func(_ context.Context, r any, profile string) (bool, error) {
			if it, ok := r.(fhirpath.Item); ok {
				r = it.JSON()
			}
			if _, err := w.tsc.profile(profile); err != nil {
				return false, fmt.Errorf("conformsTo(%s): unknown profile", profile)
			}
			return w.conforms(r, profile), nil
		},
		MaxSteps: 200000,
		Trace:    io.Discard,
	}
}

// constraints evaluates the invariants of element e on node, except those whose key element
// except (nil: none) carries: it was evaluated on the same node.
func (w *walker) constraints(e *Elem, node any, except *Elem) {
	if w.v.opts.NoInvariants || len(e.Constraints) == 0 {
		return
	}
	if _, isObj := node.(map[string]any); !isObj {
		return // primitives carry only ele-1, handled structurally
	}
	m := node.(map[string]any)
	aliased := false
	for _, c := range e.Constraints {
		if c.skip != "" || (except != nil && hasConstraint(except, c.Key)) {
			continue
		}
		if !aliased && c.native == nil {
			aliased = true
			if _, isRes := m["resourceType"]; !isRes {
				node = choiceAliases(m)
			}
		}
		w.evalConstraint(e, c, m, node)
	}
}

// evalConstraint evaluates one invariant of element e on m (node is m as FHIRPath input) and
// reports a failure or why it could not be evaluated.
func (w *walker) evalConstraint(e *Elem, c *Constraint, m map[string]any, node any) {
	if c.native != nil {
		if !c.native(w, m) {
			w.failInvariant(e, c)
		}
		return
	}
	if c.precheck != nil && c.precheck(w, m) {
		return
	}
	if c.compiled == nil {
		w.noteNotEvaluated(e, c, "not compiled")
		return
	}
	ok, err := w.v.inv.eval(w, c, node)
	if err != nil {
		w.noteNotEvaluated(e, c, err.Error())
		return
	}
	if !ok {
		w.failInvariant(e, c)
	}
}

// datatypeInvariants evaluates on a value m of element c the invariants of its datatype's own
// definition (the root of the R4 Period, ContactPoint, Quantity, Age… StructureDefinition: per-1,
// cpt-2, qty-3, age-1…), which element definitions do not repeat. Keys that c or the type profile
// root prof (nil when none) already carry were evaluated with them and are skipped, so each
// invariant runs once per value. The value is typed for FHIRPath, so Period.start compares as a
// dateTime and Range.low as a Quantity.
func (w *walker) datatypeInvariants(c, prof *Elem, m map[string]any, typ string) {
	if w.v.opts.NoInvariants || typ == "" {
		return
	}
	bt := w.tsc.baseType(typ)
	if bt == nil || len(bt.rootInv) == 0 || bt.Kind != "complex-type" {
		return
	}
	var node any
	for _, k := range bt.rootInv {
		if hasConstraint(c, k.Key) || (prof != nil && hasConstraint(prof, k.Key)) {
			continue
		}
		if node == nil {
			node = fhirpath.Typed(m, typ)
		}
		w.evalConstraint(c, k, m, node)
	}
}

func hasConstraint(e *Elem, key string) bool {
	for _, c := range e.Constraints {
		if c.Key == key {
			return true
		}
	}
	return false
}

func (w *walker) failInvariant(e *Elem, c *Constraint) {
	sev := issue.Error
	if c.Severity == "warning" {
		sev = issue.Warning
	}
	if c.BestPractice {
		var ok bool
		if sev, ok = w.v.opts.BestPractice.severity(); !ok {
			return
		}
		if sev == issue.Error && w.quiet > 0 {
			return // best practice never decides which slice or type profile a value matches
		}
	}
	w.add(sev, "invariant:"+c.Key, e, "", fmt.Sprintf("%q failed (%s)", c.Human, e.ID))
}

func (w *walker) noteNotEvaluated(e *Elem, c *Constraint, why string) {
	if w.quiet > 0 || w.noted[c.Key] {
		return
	}
	w.noted[c.Key] = true
	if len(why) > 200 {
		why = why[:200] + "…"
	}
	w.add(issue.Information, "invariant-not-evaluated", e, "", fmt.Sprintf("invariant %s not evaluated: %s", c.Key, why))
}

// choiceTypeSuffix are the type names that end concrete choice properties (valueQuantity).
var choiceTypeSuffix = func() map[string]bool {
	m := map[string]bool{}
	for _, t := range strings.Fields(`Boolean Integer String Decimal Uri Url Canonical Base64Binary Instant Date DateTime
		Time Code Oid Id Markdown UnsignedInt PositiveInt Uuid Address Age Annotation Attachment CodeableConcept Coding
		ContactPoint Count Distance Duration HumanName Identifier Money Period Quantity Range Ratio Reference
		SampledData Signature Timing ContactDetail Contributor DataRequirement Expression ParameterDefinition
		RelatedArtifact TriggerDefinition UsageContext Dosage Meta`) {
		m[t] = true
	}
	return m
}()

// choiceAliases gives an untyped FHIRPath node its choice names (value for valueQuantity), since
// the engine types only resources: the copy is made only when the node has such properties.
func choiceAliases(m map[string]any) any {
	var out map[string]any
	for k, v := range m {
		for i := 1; i < len(k); i++ {
			if k[i] >= 'A' && k[i] <= 'Z' {
				if choiceTypeSuffix[k[i:]] {
					name := k[:i]
					if _, exists := m[name]; !exists {
						if out == nil {
							out = make(map[string]any, len(m)+1)
							for k2, v2 := range m {
								out[k2] = v2
							}
						}
						out[name] = v
					}
				}
				break
			}
		}
	}
	if out == nil {
		return m
	}
	return out
}
