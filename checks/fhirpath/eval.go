package fhirpath

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"
)

// Expression is a compiled FHIRPath expression; it is immutable and safe for concurrent use.
type Expression struct {
	src  string
	root node
}

// String returns the source text.
func (e *Expression) String() string { return e.src }

// Compile parses a FHIRPath expression. Parse errors are *SyntaxError.
func Compile(expr string) (*Expression, error) {
	n, err := parse(expr)
	if err != nil {
		return nil, err
	}
	return &Expression{src: expr, root: n}, nil
}

// MustCompile is Compile that panics on error; for expressions fixed in source code.
func MustCompile(expr string) *Expression {
	e, err := Compile(expr)
	if err != nil {
		panic(err)
	}
	return e
}

// Cache is a concurrency-safe cache of compiled expressions (errors are cached too).
// The zero value is ready to use; it holds at most Max entries (default 100000) and is
// cleared when full.
type Cache struct {
	Max int
	m   sync.Map
	n   int64
	mu  sync.Mutex
}

type cacheEntry struct {
	e   *Expression
	err error
}

// Compile returns the cached compilation of expr.
func (c *Cache) Compile(expr string) (*Expression, error) {
	if v, ok := c.m.Load(expr); ok {
		ce := v.(*cacheEntry)
		return ce.e, ce.err
	}
	e, err := Compile(expr)
	c.mu.Lock()
	limit := c.Max
	if limit <= 0 {
		limit = 100000
	}
	if c.n >= int64(limit) {
		c.m.Clear()
		c.n = 0
	}
	if _, loaded := c.m.LoadOrStore(expr, &cacheEntry{e: e, err: err}); !loaded {
		c.n++
	}
	c.mu.Unlock()
	return e, err
}

var defaultCache Cache

// CompileCached compiles through a process-wide Cache.
func CompileCached(expr string) (*Expression, error) { return defaultCache.Compile(expr) }

// Resolver resolves a reference string (e.g. "Patient/123" or an absolute URL) to a decoded
// JSON resource, or nil when it cannot be resolved.
type Resolver func(ctx context.Context, reference string) (any, error)

// Env is the evaluation environment. A nil *Env means defaults.
type Env struct {
	// Resource, RootResource and Context are %resource, %rootResource and %context; when nil
	// they default to the evaluation input.
	Resource, RootResource, Context any
	// Vars are caller-defined %variables (without '%'): Item, Collection, or JSON values.
	Vars map[string]any
	// Resolver is used by resolve() for references not found in the resource itself.
	Resolver Resolver
	// MemberOf answers memberOf(valueSetURL) for a code, Coding or CodeableConcept (as JSON
	// or a string); without it memberOf is an error.
	MemberOf func(ctx context.Context, value any, valueSet string) (bool, error)
	// ConformsTo answers conformsTo(profileURL) for a resource; without it only the base
	// resource profiles http://hl7.org/fhir/StructureDefinition/<Type> are known.
	ConformsTo func(ctx context.Context, resource any, profile string) (bool, error)
	// Trace receives trace() output; nil means os.Stderr. Never stdout.
	Trace io.Writer
	// Now fixes now(), today() and timeOfDay() (for reproducible tests); zero means time.Now().
	Now time.Time
	// Strict rejects paths the R4 model does not know and concrete choice names such as
	// valueQuantity (the R4 test suite's strict mode).
	Strict bool
	// CheckOrdered (with Strict) rejects order-dependent functions (first, last, tail, skip,
	// take, indexers) applied directly to the unordered results of children()/descendants().
	CheckOrdered bool
	// MaxSteps bounds the evaluation work (default 10,000,000 steps, about a second);
	// MaxItems bounds any one collection (default 1,000,000 items).
	MaxSteps int
	MaxItems int
}

// EvalError is returned for failures at evaluation time.
type EvalError struct {
	Expr string
	Msg  string
}

func (e *EvalError) Error() string { return "fhirpath: " + e.Msg }

type plainError string

func (e plainError) Error() string { return string(e) }

func errorf(format string, args ...any) error { return plainError(fmt.Sprintf(format, args...)) }

// ErrBudget is wrapped by errors from expressions that exceed the step or size limits.
var ErrBudget = errors.New("fhirpath: evaluation limit exceeded")

type evalCtx struct {
	ctx      context.Context
	env      *Env
	steps    int
	maxSteps int
	maxItems int
	depth    int
	resource Item
	root     Item
	context  Item
	now      time.Time
	trace    io.Writer
	err      error
}

type scope struct {
	input    Collection // $this is input (a single item inside iterations)
	index    int
	hasIndex bool
	total    Collection
	hasTotal bool
}

const maxEvalDepth = maxTreeHeight + 100

// Default evaluation limits (see Env.MaxSteps and Env.MaxItems).
const (
	DefaultMaxSteps = 10_000_000
	DefaultMaxItems = 1_000_000
)

// Evaluate evaluates the expression against input (a decoded JSON resource, an Item, a
// Collection, or nil for none).
func (e *Expression) Evaluate(ctx context.Context, input any, env *Env) (out Collection, err error) {
	if e == nil || e.root == nil {
		return nil, errors.New("fhirpath: nil expression")
	}
	if env == nil {
		env = &Env{}
	}
	if ctx == nil {
		ctx = context.Background()
	}
	// Last line of defence only: the evaluator is written not to panic (FuzzEvaluate runs
	// it without this recover).
	defer func() {
		if r := recover(); r != nil {
			out, err = nil, &EvalError{Expr: e.src, Msg: fmt.Sprintf("internal error evaluating %q: %v", truncate(e.src, 80), r)}
		}
	}()
	return e.evaluate(ctx, input, env)
}

func (e *Expression) evaluate(ctx context.Context, input any, env *Env) (Collection, error) {
	in := toCollection(input)
	c := &evalCtx{ctx: ctx, env: env, maxSteps: env.MaxSteps, maxItems: env.MaxItems, trace: env.Trace}
	if c.maxSteps <= 0 {
		c.maxSteps = DefaultMaxSteps
	}
	if c.maxItems <= 0 {
		c.maxItems = DefaultMaxItems
	}
	if c.trace == nil {
		c.trace = os.Stderr
	}
	c.now = env.Now // when zero, now() reads the clock once per evaluation (fnNow)
	var inItem Item
	if len(in) == 1 {
		inItem = in[0]
	}
	c.context = pick(env.Context, inItem)
	c.resource = pick(env.Resource, inItem)
	c.root = pick(env.RootResource, c.resource)
	s := &scope{input: in}
	res, err := e.root.eval(c, s, in)
	if err != nil {
		if errors.Is(err, ErrBudget) || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
			return nil, fmt.Errorf("fhirpath: %q: %w", truncate(e.src, 80), err)
		}
		return nil, &EvalError{Expr: e.src, Msg: err.Error()}
	}
	if len(res) > 0 {
		// never hand out shared slices (compiled literals, shared booleans, the input)
		res = slices.Clone(res)
	}
	return res, nil
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n] + "…"
	}
	return s
}

func pick(v any, def Item) Item {
	switch x := v.(type) {
	case nil:
		return def
	case map[string]any:
		return nodeItem(x, "")
	case Item:
		return x
	}
	c := toCollection(v)
	if len(c) == 1 {
		return c[0]
	}
	return def
}

func toCollection(v any) Collection {
	switch x := v.(type) {
	case nil:
		return nil
	case Collection:
		return x
	case []Item:
		return x
	case Item:
		return Collection{x}
	case []any:
		out := make(Collection, 0, len(x))
		for _, e := range x {
			out = append(out, nodeItem(e, ""))
		}
		return out
	case bool:
		return Collection{Boolean(x)}
	case int:
		return Collection{Integer(int64(x))}
	case int64:
		return Collection{Integer(x)}
	case Decimal:
		return Collection{DecimalItem(x)}
	case Quantity:
		return Collection{QuantityItem(x)}
	case DateTime:
		k := kDateTime
		switch x.kind {
		case dtDate:
			k = kDate
		case dtTime:
			k = kTime
		}
		return Collection{{k: k, v: x}}
	}
	return Collection{nodeItem(v, "")}
}

func (c *evalCtx) step(n int) error {
	c.steps += n
	if c.steps > c.maxSteps {
		return fmt.Errorf("%w: more than %d steps", ErrBudget, c.maxSteps)
	}
	if c.steps&1023 < n {
		if err := c.ctx.Err(); err != nil {
			return err
		}
	}
	return nil
}

func (c *evalCtx) checkSize(n int) error {
	if n > c.maxItems {
		return fmt.Errorf("%w: collection of more than %d items", ErrBudget, c.maxItems)
	}
	return nil
}

// ---- AST ----

type node interface {
	eval(c *evalCtx, s *scope, in Collection) (Collection, error)
}

type typeSpec struct{ ns, name string }

type literalNode struct{ c Collection }

func (n *literalNode) eval(c *evalCtx, s *scope, in Collection) (Collection, error) {
	if err := c.step(1); err != nil {
		return nil, err
	}
	return n.c, nil
}

type varNode struct{ name string }

func (n *varNode) eval(c *evalCtx, s *scope, in Collection) (Collection, error) {
	switch n.name {
	case "$this":
		return s.input, nil
	case "$index":
		if !s.hasIndex {
			return nil, errorf("$index is only defined inside iterating functions")
		}
		return Collection{Integer(int64(s.index))}, nil
	case "$total":
		if !s.hasTotal {
			return nil, errorf("$total is only defined inside aggregate()")
		}
		return s.total, nil
	}
	return nil, errorf("unknown variable %s", n.name)
}

type extVarNode struct{ name string }

func (n *extVarNode) eval(c *evalCtx, s *scope, in Collection) (Collection, error) {
	if c.env.Vars != nil {
		if v, ok := c.env.Vars[n.name]; ok {
			return toCollection(v), nil
		}
	}
	switch n.name {
	case "resource":
		return itemColl(c.resource), nil
	case "rootResource":
		return itemColl(c.root), nil
	case "context":
		return itemColl(c.context), nil
	case "ucum":
		return Collection{String("http://unitsofmeasure.org")}, nil
	case "sct":
		return Collection{String("http://snomed.info/sct")}, nil
	case "loinc":
		return Collection{String("http://loinc.org")}, nil
	}
	if strings.HasPrefix(n.name, "vs-") {
		return Collection{String("http://hl7.org/fhir/ValueSet/" + n.name[3:])}, nil
	}
	if strings.HasPrefix(n.name, "ext-") {
		return Collection{String("http://hl7.org/fhir/StructureDefinition/" + n.name[4:])}, nil
	}
	return nil, errorf("undefined variable %%%s", n.name)
}

func itemColl(it Item) Collection {
	if it.k == kNone && it.v == nil {
		return nil
	}
	return Collection{it}
}

// identNode is an identifier at the start of a path: a type name filtering the input
// (Patient.name) or a child element name.
type identNode struct{ name string }

func (n *identNode) eval(c *evalCtx, s *scope, in Collection) (Collection, error) {
	if len(n.name) > 0 && n.name[0] >= 'A' && n.name[0] <= 'Z' {
		m := r4()
		matched := false
		var out Collection
		for _, it := range in {
			if it.fhir != "" && m.isSubtype(it.fhir, n.name) {
				out = append(out, it)
				matched = true
			}
		}
		if matched {
			return out, nil
		}
		if m.typ(n.name) != nil && len(in) > 0 {
			if c.env.Strict {
				return nil, errorf("expression starts with type %s but the input is %s", n.name, in[0].Type().Name)
			}
			// Not this type: children named like a type do not exist in FHIR.
			return nil, nil
		}
	}
	return children(c, in, n.name)
}

type memberNode struct {
	left node
	name string
}

func (n *memberNode) eval(c *evalCtx, s *scope, in Collection) (Collection, error) {
	if c.env.Strict {
		if err := n.checkStatic(); err != nil {
			return nil, err
		}
	}
	l, err := n.left.eval(c, s, in)
	if err != nil || len(l) == 0 {
		return nil, err
	}
	return children(c, l, n.name)
}

// checkStatic (strict mode): after "as T" / ofType(T) the element must exist on T, even
// when the cast leaves nothing to navigate.
func (n *memberNode) checkStatic() error {
	var ts typeSpec
	switch x := n.left.(type) {
	case *typeOpNode:
		if x.op != "as" {
			return nil
		}
		ts = x.ts
	case *callNode:
		if x.name != "as" && x.name != "ofType" {
			return nil
		}
		ts = x.ts
	default:
		return nil
	}
	if ts.ns == "System" {
		return nil
	}
	td := r4().typ(ts.name)
	if td == nil || td.element(n.name) != nil {
		return nil
	}
	if _, ok := td.concreteChoice(n.name); ok {
		return nil
	}
	return errorf("type %s has no element %s", ts.name, n.name)
}

// children navigates to the named child of every item.
func children(c *evalCtx, in Collection, name string) (Collection, error) {
	if err := c.step(len(in) + 1); err != nil {
		return nil, err
	}
	var out Collection
	m := r4()
	for _, it := range in {
		obj, ok := it.v.(map[string]any)
		if it.k == kType {
			ti, _ := it.v.(TypeInfo)
			switch name {
			case "name":
				out = append(out, String(ti.Name))
			case "namespace":
				out = append(out, String(ti.Namespace))
			}
			continue
		}
		if !ok || it.k != kNode {
			if it.ext != nil {
				out = append(out, primitiveChildren(it, name)...)
			}
			continue
		}
		var td *typeDef
		if it.fhir != "" {
			td = m.typ(it.fhir)
		}
		if td != nil {
			if e := td.element(name); e != nil {
				if e.choice {
					for i, t := range e.types {
						if _, ok := obj[e.keys[i]]; ok || obj[e.extKeys[i]] != nil {
							out = appendChildKey(out, obj, e.keys[i], e.extKeys[i], t)
						}
					}
				} else {
					out = appendChildKey(out, obj, e.keys[0], e.extKeys[0], e.types[0])
				}
				continue
			}
			if cr, ok := td.concreteChoice(name); ok {
				if c.env.Strict {
					return nil, errorf("%s is a choice element: use %s (or %s.ofType(%s))", name, cr.elem.name, cr.elem.name, cr.typ)
				}
				out = appendChild(out, obj, name, cr.typ)
				continue
			}
			if c.env.Strict {
				return nil, errorf("type %s has no element %s", m.publicName(it.fhir), name)
			}
		}
		out = appendChild(out, obj, name, "")
	}
	if err := c.checkSize(len(out)); err != nil {
		return nil, err
	}
	return out, nil
}

// appendChild appends obj[key] (and the matching "_key" primitive extensions) typed as t.
func appendChild(out Collection, obj map[string]any, key, t string) Collection {
	return appendChildKey(out, obj, key, "_"+key, t)
}

func appendChildKey(out Collection, obj map[string]any, key, extKey, t string) Collection {
	v, hasV := obj[key]
	ext, hasExt := obj[extKey]
	if !hasV && !hasExt {
		return out
	}
	if t == "" && !hasV {
		t = "string"
	}
	switch x := v.(type) {
	case []any:
		extArr, _ := ext.([]any)
		out = slices.Grow(out, len(x))
		for i, e := range x {
			var em map[string]any
			if i < len(extArr) {
				em, _ = extArr[i].(map[string]any)
			}
			if e == nil && em == nil {
				continue
			}
			it := nodeItem(e, t)
			if e == nil {
				it = Item{k: primitiveKind(t), fhir: t}
			}
			it.ext = em
			out = append(out, it)
		}
		if len(x) == 0 {
			if extArr, ok := ext.([]any); ok {
				for _, e := range extArr {
					if em, ok := e.(map[string]any); ok {
						out = append(out, Item{k: primitiveKind(t), fhir: t, ext: em})
					}
				}
			}
		}
		return out
	case nil:
		if extArr, ok := ext.([]any); ok {
			for _, e := range extArr {
				if em, ok := e.(map[string]any); ok {
					out = append(out, Item{k: primitiveKind(t), fhir: t, ext: em})
				}
			}
			return out
		}
		em, _ := ext.(map[string]any)
		if em == nil {
			return out
		}
		return append(out, Item{k: primitiveKind(t), fhir: t, ext: em})
	}
	it := nodeItem(v, t)
	if em, ok := ext.(map[string]any); ok {
		it.ext = em
	}
	return append(out, it)
}

func primitiveKind(t string) kind {
	if t == "" {
		return kStr
	}
	return systemKindOfPrimitive(t)
}

type indexNode struct{ left, idx node }

func (n *indexNode) eval(c *evalCtx, s *scope, in Collection) (Collection, error) {
	l, err := n.left.eval(c, s, in)
	if err != nil {
		return nil, err
	}
	ix, err := n.idx.eval(c, s, s.input)
	if err != nil {
		return nil, err
	}
	if len(ix) == 0 {
		return nil, nil
	}
	if len(ix) > 1 {
		return nil, errorf("indexer needs a single integer, got %d items", len(ix))
	}
	i, ok := ix[0].intVal()
	if !ok || ix[0].k != kInt {
		return nil, errorf("indexer needs an integer")
	}
	if i < 0 || i >= int64(len(l)) {
		return nil, nil
	}
	return Collection{l[i]}, nil
}

type unaryNode struct {
	neg bool
	x   node
}

func (n *unaryNode) eval(c *evalCtx, s *scope, in Collection) (Collection, error) {
	v, err := n.x.eval(c, s, in)
	if err != nil || len(v) == 0 {
		return nil, err
	}
	if len(v) > 1 {
		return nil, errorf("unary %s needs a single value, got %d items", map[bool]string{true: "-", false: "+"}[n.neg], len(v))
	}
	it := v[0]
	switch it.normKind() {
	case kInt, kLong:
		x, ok := it.intVal()
		if !ok {
			return nil, nil
		}
		if n.neg {
			x = -x
		}
		return Collection{{k: kInt, v: x}}, nil
	case kDec:
		d, ok := it.decVal()
		if !ok {
			return nil, nil
		}
		if n.neg {
			d = d.Neg()
		}
		return Collection{{k: kDec, v: d}}, nil
	case kQty:
		q, ok := it.qtyVal()
		if !ok {
			return nil, nil
		}
		if n.neg {
			q.Value = q.Value.Neg()
		}
		return Collection{{k: kQty, v: q}}, nil
	}
	return nil, errorf("unary minus/plus needs a number or quantity, got %s", it.Type().Name)
}

type typeOpNode struct {
	op string
	x  node
	ts typeSpec
}

func (n *typeOpNode) eval(c *evalCtx, s *scope, in Collection) (Collection, error) {
	v, err := n.x.eval(c, s, in)
	if err != nil {
		return nil, err
	}
	return typeTest(c, v, n.ts, n.op)
}

// typeTest implements is/as (single item) and ofType (filter).
func typeTest(c *evalCtx, v Collection, ts typeSpec, op string) (Collection, error) {
	if err := checkTypeName(ts); err != nil {
		return nil, err
	}
	if op == "ofType" {
		var out Collection
		for _, it := range v {
			if isTypeExact(it, ts) {
				out = append(out, it)
			}
		}
		return out, nil
	}
	if len(v) == 0 {
		return nil, nil
	}
	if len(v) > 1 {
		return nil, errorf("'%s' needs a single item, got %d", op, len(v))
	}
	if op == "is" {
		return boolColl(isType(v[0], ts)), nil
	}
	ok := isTypeExact(v[0], ts)
	if ok {
		return v, nil
	}
	return nil, nil
}

func checkTypeName(ts typeSpec) error {
	switch ts.ns {
	case "System":
		if _, ok := systemTypeKinds[ts.name]; !ok {
			return nil
		}
		return nil
	case "FHIR", "":
		if r4().typ(ts.name) != nil || ts.ns == "" && systemTypeKinds[ts.name] != 0 {
			return nil
		}
		if ts.name == "BackboneElement" || ts.name == "Element" {
			return nil
		}
		return errorf("unknown type %s", ts.name)
	}
	return errorf("unknown type namespace %s", ts.ns)
}

// isType: FHIR types match FHIR items by name or ancestry; System types match System items.
func isType(it Item, ts typeSpec) bool {
	m := r4()
	if it.fhir != "" {
		if ts.ns == "System" {
			return false
		}
		if m.typ(ts.name) == nil {
			return false
		}
		return m.isSubtype(it.fhir, ts.name) || m.publicName(it.fhir) == ts.name
	}
	if ts.ns == "FHIR" {
		return false
	}
	if ts.ns == "" && m.typ(ts.name) != nil && systemTypeKinds[ts.name] == 0 {
		return false
	}
	k, ok := systemTypeKinds[ts.name]
	return ok && k == it.k
}

// isTypeExact is used by as() and ofType(): FHIR primitives must match exactly (a code is
// not returned by as(string)); complex types match by ancestry.
func isTypeExact(it Item, ts typeSpec) bool {
	if it.fhir != "" && r4().isPrimitive(it.fhir) {
		return ts.ns != "System" && it.fhir == ts.name
	}
	return isType(it, ts)
}

// ---- JSON helpers ----

// work meters deep comparisons (nested JSON, pairwise collection scans) so that they stop
// once they exceed the remaining step budget; the caller then charges w.n steps, which
// fails the evaluation, so the short-circuited answers are never seen.
type work struct{ n, limit int }

func (w *work) spend(k int) bool {
	if w == nil {
		return true
	}
	w.n += k
	return w.n <= w.limit
}

func (c *evalCtx) meter() *work { return &work{limit: c.maxSteps - c.steps + 1} }

func (c *evalCtx) charge(w *work) error {
	n := w.n
	w.n = 0
	w.limit = c.maxSteps - c.steps - n + 1
	return c.step(n)
}

func jsonEqual(a, b any, equiv bool, w *work) bool {
	if !w.spend(1) {
		return false
	}
	switch x := a.(type) {
	case map[string]any:
		y, ok := b.(map[string]any)
		if !ok {
			return false
		}
		if !equiv && len(x) != len(y) {
			return false
		}
		for k, v := range x {
			if equiv && k == "id" {
				continue
			}
			wv, ok := y[k]
			if !ok || !jsonEqual(v, wv, equiv, w) {
				return false
			}
		}
		if equiv {
			for k := range y {
				if _, ok := x[k]; !ok && k != "id" {
					return false
				}
			}
		}
		return true
	case []any:
		y, ok := b.([]any)
		if !ok || len(x) != len(y) {
			return false
		}
		for i := range x {
			if !jsonEqual(x[i], y[i], equiv, w) {
				return false
			}
		}
		return true
	case json.Number:
		switch y := b.(type) {
		case json.Number:
			da, ok1 := ParseDecimal(string(x))
			db, ok2 := ParseDecimal(string(y))
			return ok1 && ok2 && da.Cmp(db) == 0
		case float64:
			d, ok := ParseDecimal(string(x))
			return ok && d.Float64() == y
		}
		return false
	case string:
		y, ok := b.(string)
		if equiv && ok {
			return normalizeForEquiv(x) == normalizeForEquiv(y)
		}
		return ok && x == y
	case bool:
		y, ok := b.(bool)
		return ok && x == y
	case float64:
		switch y := b.(type) {
		case float64:
			return x == y
		case json.Number:
			return jsonEqual(y, x, equiv, w)
		}
		return false
	case nil:
		return b == nil
	}
	return false
}

func normalizeForEquiv(s string) string {
	return strings.ToLower(strings.Join(strings.Fields(s), " "))
}

// sortedKeys returns the keys of m in a stable order.
func sortedKeys(m map[string]any) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}
