package fhirpath

import (
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"math"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"
)

type funcImpl func(c *evalCtx, s *scope, focus Collection, n *callNode) (Collection, error)

type funcDef struct {
	minArgs, maxArgs int
	typeArg          bool // first argument is a type specifier
	fn               funcImpl
}

type callNode struct {
	focus node // nil for a function at the start of a path
	name  string
	fn    *funcDef
	args  []node
	ts    typeSpec
}

func (n *callNode) eval(c *evalCtx, s *scope, in Collection) (Collection, error) {
	if err := c.step(1); err != nil {
		return nil, err
	}
	c.depth++
	defer func() { c.depth-- }()
	if c.depth > maxEvalDepth {
		return nil, errorf("expression nested too deeply")
	}
	if c.env.Strict && c.env.CheckOrdered && orderedFunctions[n.name] {
		if f, ok := n.focus.(*callNode); ok && (f.name == "children" || f.name == "descendants") {
			return nil, errorf("%s() depends on order, but %s() returns an unordered collection", n.name, f.name)
		}
	}
	focus := in
	if n.focus != nil {
		var err error
		focus, err = n.focus.eval(c, s, in)
		if err != nil {
			return nil, err
		}
	}
	out, err := n.fn.fn(c, s, focus, n)
	if err != nil {
		return nil, err
	}
	if err := c.checkSize(len(out)); err != nil {
		return nil, err
	}
	if err := c.chargeStrings(out); err != nil {
		return nil, err
	}
	return out, nil
}

// chargeStrings charges evaluation steps for the bytes of computed strings, so that
// expressions building large strings run out of budget instead of memory.
func (c *evalCtx) chargeStrings(out Collection) error {
	n := 0
	for i := range out {
		if out[i].k == kStr && out[i].fhir == "" {
			if s, ok := out[i].v.(string); ok {
				n += len(s)
			}
		}
	}
	if n >= 64 {
		return c.step(n / 64)
	}
	return nil
}

// arg evaluates argument i in the calling scope.
func (n *callNode) arg(c *evalCtx, s *scope, i int) (Collection, error) {
	if i >= len(n.args) {
		return nil, nil
	}
	return n.args[i].eval(c, s, s.input)
}

// forEach evaluates argument i once per focus item with $this and $index set.
func (n *callNode) forEach(c *evalCtx, focus Collection, i int, f func(idx int, it Item, r Collection) (bool, error)) error {
	// One scope and one single-item input are reused across iterations: callbacks copy
	// the items they keep (append), never the slice itself.
	sc := &scope{hasIndex: true}
	buf := make(Collection, 1)
	for idx, it := range focus {
		if err := c.step(1); err != nil {
			return err
		}
		buf[0] = it
		sc.input, sc.index = buf[:1:1], idx
		r, err := n.args[i].eval(c, sc, sc.input)
		if err != nil {
			return err
		}
		cont, err := f(idx, it, r)
		if err != nil || !cont {
			return err
		}
	}
	return nil
}

func (n *callNode) singleArg(c *evalCtx, s *scope, i int) (Item, bool, error) {
	v, err := n.arg(c, s, i)
	if err != nil {
		return Item{}, false, err
	}
	if len(v) == 0 {
		return Item{}, false, nil
	}
	if len(v) > 1 {
		return Item{}, false, errorf("%s(): argument %d must be a single value, got %d items", n.name, i+1, len(v))
	}
	return v[0], true, nil
}

func (n *callNode) intArg(c *evalCtx, s *scope, i int) (int64, bool, error) {
	it, ok, err := n.singleArg(c, s, i)
	if err != nil || !ok {
		return 0, ok, err
	}
	if it.k != kInt && it.k != kLong {
		return 0, false, errorf("%s(): argument %d must be an integer, got %s", n.name, i+1, it.Type().Name)
	}
	v, ok := it.intVal()
	return v, ok, nil
}

func (n *callNode) stringArg(c *evalCtx, s *scope, i int) (string, bool, error) {
	it, ok, err := n.singleArg(c, s, i)
	if err != nil || !ok {
		return "", ok, err
	}
	if it.k != kStr {
		return "", false, errorf("%s(): argument %d must be a string, got %s", n.name, i+1, it.Type().Name)
	}
	v, ok := it.strVal()
	return v, ok, nil
}

// single returns the only item of focus: ok false for empty; error for more than one.
func single(name string, focus Collection) (Item, bool, error) {
	if len(focus) == 0 {
		return Item{}, false, nil
	}
	if len(focus) > 1 {
		return Item{}, false, errorf("%s() needs a single input item, got %d", name, len(focus))
	}
	return focus[0], true, nil
}

// focusString is the single string input of a string function.
func focusString(name string, focus Collection) (string, bool, error) {
	it, ok, err := single(name, focus)
	if err != nil || !ok {
		return "", ok, err
	}
	if it.k == kNode || it.k == kType {
		return "", false, errorf("%s() needs a string input, got %s", name, it.Type().Name)
	}
	s, ok := toStringValue(it)
	return s, ok, nil
}

var functions map[string]*funcDef

var orderedFunctions = map[string]bool{"first": true, "last": true, "tail": true, "skip": true, "take": true, "single": false}

func init() {
	functions = map[string]*funcDef{
		// existence
		"empty": {0, 0, false, func(c *evalCtx, s *scope, f Collection, n *callNode) (Collection, error) {
			return boolColl(len(f) == 0), nil
		}},
		"exists": {0, 1, false, fnExists},
		"all":    {1, 1, false, fnAll},
		"allTrue": {0, 0, false, func(c *evalCtx, s *scope, f Collection, n *callNode) (Collection, error) {
			return boolsAgg(f, "allTrue", true, true)
		}},
		"anyTrue": {0, 0, false, func(c *evalCtx, s *scope, f Collection, n *callNode) (Collection, error) {
			return boolsAgg(f, "anyTrue", true, false)
		}},
		"allFalse": {0, 0, false, func(c *evalCtx, s *scope, f Collection, n *callNode) (Collection, error) {
			return boolsAgg(f, "allFalse", false, true)
		}},
		"anyFalse": {0, 0, false, func(c *evalCtx, s *scope, f Collection, n *callNode) (Collection, error) {
			return boolsAgg(f, "anyFalse", false, false)
		}},
		"subsetOf":   {1, 1, false, fnSubsetOf},
		"supersetOf": {1, 1, false, fnSubsetOf},
		"count": {0, 0, false, func(c *evalCtx, s *scope, f Collection, n *callNode) (Collection, error) {
			return Collection{Integer(int64(len(f)))}, nil
		}},
		"distinct":   {0, 0, false, fnDistinct},
		"isDistinct": {0, 0, false, fnDistinct},
		// filtering and projection
		"where":     {1, 1, false, fnWhere},
		"select":    {1, 1, false, fnSelect},
		"repeat":    {1, 1, false, fnRepeat},
		"repeatAll": {1, 1, false, fnRepeat},
		"ofType": {1, 1, true, func(c *evalCtx, s *scope, f Collection, n *callNode) (Collection, error) {
			return typeTest(c, f, n.ts, "ofType")
		}},
		"is": {1, 1, true, func(c *evalCtx, s *scope, f Collection, n *callNode) (Collection, error) {
			return typeTest(c, f, n.ts, "is")
		}},
		"as": {1, 1, true, func(c *evalCtx, s *scope, f Collection, n *callNode) (Collection, error) {
			if len(f) > 1 {
				// R4 core invariants (dom-3: descendants().as(canonical)) apply as() to
				// collections; outside strict mode it filters like ofType().
				if c.env.Strict {
					return nil, errorf("as() needs a single item, got %d (use ofType())", len(f))
				}
				return typeTest(c, f, n.ts, "ofType")
			}
			return typeTest(c, f, n.ts, "as")
		}},
		"type": {0, 0, false, fnType},
		// subsetting
		"single": {0, 0, false, func(c *evalCtx, s *scope, f Collection, n *callNode) (Collection, error) {
			if len(f) > 1 {
				return nil, errorf("single() found %d items", len(f))
			}
			return f, nil
		}},
		"first": {0, 0, false, func(c *evalCtx, s *scope, f Collection, n *callNode) (Collection, error) {
			if len(f) == 0 {
				return nil, nil
			}
			return f[:1:1], nil
		}},
		"last": {0, 0, false, func(c *evalCtx, s *scope, f Collection, n *callNode) (Collection, error) {
			if len(f) == 0 {
				return nil, nil
			}
			return f[len(f)-1:], nil
		}},
		"tail": {0, 0, false, func(c *evalCtx, s *scope, f Collection, n *callNode) (Collection, error) {
			if len(f) <= 1 {
				return nil, nil
			}
			return f[1:], nil
		}},
		"skip":      {1, 1, false, fnSkipTake},
		"take":      {1, 1, false, fnSkipTake},
		"intersect": {1, 1, false, fnIntersect},
		"exclude":   {1, 1, false, fnIntersect},
		"union": {1, 1, false, func(c *evalCtx, s *scope, f Collection, n *callNode) (Collection, error) {
			o, err := n.arg(c, s, 0)
			if err != nil {
				return nil, err
			}
			if err := c.step(len(f) + len(o)); err != nil {
				return nil, err
			}
			w := c.meter()
			out := union(f, o, w)
			return out, c.charge(w)
		}},
		"combine": {1, 1, false, func(c *evalCtx, s *scope, f Collection, n *callNode) (Collection, error) {
			o, err := n.arg(c, s, 0)
			if err != nil {
				return nil, err
			}
			out := make(Collection, 0, len(f)+len(o))
			return append(append(out, f...), o...), nil
		}},
		// conversion
		"iif":                {2, 3, false, fnIif},
		"toBoolean":          {0, 0, false, convFn(convBoolean, false)},
		"convertsToBoolean":  {0, 0, false, convFn(convBoolean, true)},
		"toInteger":          {0, 0, false, convFn(convInteger, false)},
		"convertsToInteger":  {0, 0, false, convFn(convInteger, true)},
		"toLong":             {0, 0, false, convFn(convInteger, false)},
		"convertsToLong":     {0, 0, false, convFn(convInteger, true)},
		"toDecimal":          {0, 0, false, convFn(convDecimal, false)},
		"convertsToDecimal":  {0, 0, false, convFn(convDecimal, true)},
		"toString":           {0, 0, false, convFn(convString, false)},
		"convertsToString":   {0, 0, false, convFn(convString, true)},
		"toDate":             {0, 0, false, convFn(convDate, false)},
		"convertsToDate":     {0, 0, false, convFn(convDate, true)},
		"toDateTime":         {0, 0, false, convFn(convDateTime, false)},
		"convertsToDateTime": {0, 0, false, convFn(convDateTime, true)},
		"toTime":             {0, 0, false, convFn(convTime, false)},
		"convertsToTime":     {0, 0, false, convFn(convTime, true)},
		"toQuantity":         {0, 1, false, fnToQuantity},
		"convertsToQuantity": {0, 1, false, fnToQuantity},
		// strings
		"indexOf":        {1, 1, false, fnIndexOf},
		"lastIndexOf":    {1, 1, false, fnIndexOf},
		"substring":      {1, 2, false, fnSubstring},
		"startsWith":     {1, 1, false, fnStrPredicate},
		"endsWith":       {1, 1, false, fnStrPredicate},
		"contains":       {1, 1, false, fnStrPredicate},
		"upper":          {0, 0, false, fnStrMap},
		"lower":          {0, 0, false, fnStrMap},
		"trim":           {0, 0, false, fnStrMap},
		"toChars":        {0, 0, false, fnToChars},
		"length":         {0, 0, false, fnLength},
		"replace":        {2, 2, false, fnReplace},
		"matches":        {1, 1, false, fnMatches},
		"matchesFull":    {1, 1, false, fnMatches},
		"replaceMatches": {2, 2, false, fnReplaceMatches},
		"split":          {1, 1, false, fnSplit},
		"join":           {0, 1, false, fnJoin},
		"encode":         {1, 1, false, fnEncode},
		"decode":         {1, 1, false, fnEncode},
		"escape":         {1, 1, false, fnEscape},
		"unescape":       {1, 1, false, fnEscape},
		// math
		"abs":      {0, 0, false, fnMath},
		"ceiling":  {0, 0, false, fnMath},
		"floor":    {0, 0, false, fnMath},
		"truncate": {0, 0, false, fnMath},
		"exp":      {0, 0, false, fnMath},
		"ln":       {0, 0, false, fnMath},
		"sqrt":     {0, 0, false, fnMath},
		"log":      {1, 1, false, fnMath},
		"power":    {1, 1, false, fnMath},
		"round":    {0, 1, false, fnMath},
		// tree navigation
		"children":    {0, 0, false, fnChildren},
		"descendants": {0, 0, false, fnDescendants},
		// utility
		"trace":     {1, 2, false, fnTrace},
		"now":       {0, 0, false, fnNow},
		"today":     {0, 0, false, fnNow},
		"timeOfDay": {0, 0, false, fnNow},
		"aggregate": {1, 2, false, fnAggregate},
		"not": {0, 0, false, func(c *evalCtx, s *scope, f Collection, n *callNode) (Collection, error) {
			b, err := toBool3(f, "not()")
			if err != nil {
				return nil, err
			}
			if b < 0 {
				return nil, nil
			}
			return bool3(1 - b), nil
		}},
		"sort":         {0, 8, false, fnSort},
		"lowBoundary":  {0, 1, false, fnBoundary},
		"highBoundary": {0, 1, false, fnBoundary},
		"precision":    {0, 0, false, fnPrecision},
		"comparable":   {1, 1, false, fnComparable},
		// FHIR additions
		"extension":  {1, 1, false, fnExtension},
		"hasValue":   {0, 0, false, fnHasValue},
		"getValue":   {0, 0, false, fnGetValue},
		"resolve":    {0, 0, false, fnResolve},
		"memberOf":   {1, 1, false, fnMemberOf},
		"conformsTo": {1, 1, false, fnConformsTo},
		"htmlChecks": {0, 0, false, fnHTMLChecks},
		"htmlchecks": {0, 0, false, fnHTMLChecks},
		"hasTemplateIdOf": {1, 1, false, func(c *evalCtx, s *scope, f Collection, n *callNode) (Collection, error) {
			return boolColl(false), nil
		}},
	}
}

func fnExists(c *evalCtx, s *scope, f Collection, n *callNode) (Collection, error) {
	if len(n.args) == 0 {
		return boolColl(len(f) > 0), nil
	}
	found := false
	err := n.forEach(c, f, 0, func(_ int, _ Item, r Collection) (bool, error) {
		b, err := toBool3(r, "exists() criteria")
		if err != nil {
			return false, err
		}
		if b == 1 {
			found = true
			return false, nil
		}
		return true, nil
	})
	if err != nil {
		return nil, err
	}
	return boolColl(found), nil
}

func fnAll(c *evalCtx, s *scope, f Collection, n *callNode) (Collection, error) {
	all := true
	err := n.forEach(c, f, 0, func(_ int, _ Item, r Collection) (bool, error) {
		b, err := toBool3(r, "all() criteria")
		if err != nil {
			return false, err
		}
		if b != 1 {
			all = false
			return false, nil
		}
		return true, nil
	})
	if err != nil {
		return nil, err
	}
	return boolColl(all), nil
}

func boolsAgg(f Collection, name string, want, all bool) (Collection, error) {
	for _, it := range f {
		if it.k != kBool {
			return nil, errorf("%s() needs booleans, got %s", name, it.Type().Name)
		}
		b, _ := it.boolVal()
		if all && b != want {
			return boolColl(false), nil
		}
		if !all && b == want {
			return boolColl(true), nil
		}
	}
	return boolColl(all), nil
}

func fnSubsetOf(c *evalCtx, s *scope, f Collection, n *callNode) (Collection, error) {
	o, err := n.arg(c, s, 0)
	if err != nil {
		return nil, err
	}
	sub, super := f, o
	if n.name == "supersetOf" {
		sub, super = o, f
	}
	if err := c.step(len(sub) + len(super)); err != nil {
		return nil, err
	}
	d := deduper{w: c.meter()}
	for _, it := range super {
		d.add(it)
	}
	all := true
	for _, it := range sub {
		if !d.has(it) {
			all = false
			break
		}
	}
	if err := c.charge(d.w); err != nil {
		return nil, err
	}
	return boolColl(all), nil
}

func fnDistinct(c *evalCtx, s *scope, f Collection, n *callNode) (Collection, error) {
	if err := c.step(len(f)); err != nil {
		return nil, err
	}
	d := deduper{w: c.meter()}
	var out Collection
	for _, it := range f {
		if d.add(it) {
			out = append(out, it)
		}
	}
	if err := c.charge(d.w); err != nil {
		return nil, err
	}
	if n.name == "isDistinct" {
		return boolColl(len(out) == len(f)), nil
	}
	return out, nil
}

func fnWhere(c *evalCtx, s *scope, f Collection, n *callNode) (Collection, error) {
	var out Collection
	err := n.forEach(c, f, 0, func(_ int, it Item, r Collection) (bool, error) {
		b, err := toBool3(r, "where() criteria")
		if err != nil {
			return false, err
		}
		if b == 1 {
			out = append(out, it)
		}
		return true, nil
	})
	return out, err
}

func fnSelect(c *evalCtx, s *scope, f Collection, n *callNode) (Collection, error) {
	var out Collection
	err := n.forEach(c, f, 0, func(_ int, _ Item, r Collection) (bool, error) {
		out = append(out, r...)
		return true, c.checkSize(len(out))
	})
	return out, err
}

func fnRepeat(c *evalCtx, s *scope, f Collection, n *callNode) (Collection, error) {
	seen := deduper{w: c.meter()}
	var out Collection
	queue := f
	for len(queue) > 0 {
		var next Collection
		err := n.forEach(c, queue, 0, func(_ int, _ Item, r Collection) (bool, error) {
			for _, it := range r {
				if n.name == "repeat" && !seen.add(it) {
					continue
				}
				out = append(out, it)
				next = append(next, it)
			}
			if err := c.charge(seen.w); err != nil {
				return false, err
			}
			return true, c.checkSize(len(out))
		})
		if err != nil {
			return nil, err
		}
		queue = next
	}
	return out, nil
}

func fnType(c *evalCtx, s *scope, f Collection, n *callNode) (Collection, error) {
	out := make(Collection, 0, len(f))
	for _, it := range f {
		out = append(out, Item{k: kType, v: it.Type()})
	}
	return out, nil
}

func fnSkipTake(c *evalCtx, s *scope, f Collection, n *callNode) (Collection, error) {
	k, ok, err := n.intArg(c, s, 0)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, nil
	}
	if k < 0 {
		k = 0
	}
	if k > int64(len(f)) {
		k = int64(len(f))
	}
	if n.name == "skip" {
		return f[k:], nil
	}
	return f[:k:k], nil
}

func fnIntersect(c *evalCtx, s *scope, f Collection, n *callNode) (Collection, error) {
	o, err := n.arg(c, s, 0)
	if err != nil {
		return nil, err
	}
	if err := c.step(len(f) + len(o)); err != nil {
		return nil, err
	}
	w := c.meter()
	other, seen := deduper{w: w}, deduper{w: w}
	for _, it := range o {
		other.add(it)
	}
	var out Collection
	for _, it := range f {
		in := other.has(it)
		if n.name == "intersect" {
			if in && seen.add(it) {
				out = append(out, it)
			}
		} else if !in {
			out = append(out, it)
		}
	}
	return out, c.charge(w)
}

func fnIif(c *evalCtx, s *scope, f Collection, n *callNode) (Collection, error) {
	sc := s
	if n.focus != nil {
		if len(f) > 1 {
			return nil, errorf("iif() needs at most one input item, got %d", len(f))
		}
		sc = &scope{input: f, index: s.index, hasIndex: s.hasIndex, total: s.total, hasTotal: s.hasTotal}
	}
	cond, err := n.args[0].eval(c, sc, sc.input)
	if err != nil {
		return nil, err
	}
	if len(cond) > 1 {
		return nil, errorf("iif() criterion must be a single boolean, got %d items", len(cond))
	}
	if len(cond) == 1 && cond[0].k != kBool {
		if c.env.Strict {
			return nil, errorf("iif() criterion must be a boolean, got %s", cond[0].Type().Name)
		}
	}
	b, err := toBool3(cond, "iif() criterion")
	if err != nil {
		return nil, err
	}
	if b == 1 {
		return n.args[1].eval(c, sc, sc.input)
	}
	if len(n.args) > 2 {
		return n.args[2].eval(c, sc, sc.input)
	}
	return nil, nil
}

// ---- conversions ----

type convFunc func(it Item) (Item, bool)

func convFn(conv convFunc, test bool) funcImpl {
	return func(c *evalCtx, s *scope, f Collection, n *callNode) (Collection, error) {
		it, ok, err := single(n.name, f)
		if err != nil || !ok {
			return nil, err
		}
		r, ok := conv(it)
		if test {
			return boolColl(ok), nil
		}
		if !ok {
			return nil, nil
		}
		return Collection{r}, nil
	}
}

func convBoolean(it Item) (Item, bool) {
	switch it.normKind() {
	case kBool:
		b, ok := it.boolVal()
		return Boolean(b), ok
	case kInt, kLong:
		v, ok := it.intVal()
		if ok && (v == 0 || v == 1) {
			return Boolean(v == 1), true
		}
	case kDec:
		d, ok := it.decVal()
		if ok && d.Cmp(DecimalFromInt(0)) == 0 {
			return Boolean(false), true
		}
		if ok && d.Cmp(DecimalFromInt(1)) == 0 {
			return Boolean(true), true
		}
	case kStr:
		sv, _ := it.strVal()
		switch strings.ToLower(sv) {
		case "true", "t", "yes", "y", "1", "1.0":
			return Boolean(true), true
		case "false", "f", "no", "n", "0", "0.0":
			return Boolean(false), true
		}
	}
	return Item{}, false
}

func convInteger(it Item) (Item, bool) {
	switch it.normKind() {
	case kInt, kLong:
		v, ok := it.intVal()
		return Integer(v), ok
	case kBool:
		b, _ := it.boolVal()
		if b {
			return Integer(1), true
		}
		return Integer(0), true
	case kStr:
		sv, _ := it.strVal()
		t := strings.TrimPrefix(strings.TrimPrefix(sv, "+"), "-")
		if t == "" || !allDigits(t) {
			return Item{}, false
		}
		v, err := strconv.ParseInt(sv, 10, 64)
		return Integer(v), err == nil
	}
	return Item{}, false
}

func convDecimal(it Item) (Item, bool) {
	switch it.normKind() {
	case kInt, kLong, kDec:
		d, ok := it.decVal()
		return DecimalItem(d), ok
	case kBool:
		b, _ := it.boolVal()
		if b {
			return DecimalItem(DecimalFromInt(1)), true
		}
		return DecimalItem(DecimalFromInt(0)), true
	case kStr:
		sv, _ := it.strVal()
		if strings.ContainsAny(sv, "eE") {
			return Item{}, false
		}
		d, ok := ParseDecimal(sv)
		return DecimalItem(d), ok
	}
	return Item{}, false
}

func convString(it Item) (Item, bool) {
	if it.k == kNode && !it.isQuantityLike() || it.k == kType {
		return Item{}, false
	}
	sv, ok := toStringValue(it)
	if !ok {
		return Item{}, false
	}
	return String(sv), true
}

func convDate(it Item) (Item, bool) {
	switch it.normKind() {
	case kDate, kDateTime:
		d, ok := it.dtVal()
		if !ok {
			return Item{}, false
		}
		if d.prec > precDay {
			d.prec = precDay
		}
		d.kind, d.hasTZ = dtDate, false
		return Item{k: kDate, v: d}, true
	case kStr:
		sv, _ := it.strVal()
		if d, ok := ParseDate(sv); ok {
			return Item{k: kDate, v: d}, true
		}
		if d, ok := ParseDateTime(sv, false); ok {
			if d.prec > precDay {
				d.prec = precDay
			}
			d.kind, d.hasTZ = dtDate, false
			return Item{k: kDate, v: d}, true
		}
	}
	return Item{}, false
}

func convDateTime(it Item) (Item, bool) {
	switch it.normKind() {
	case kDate, kDateTime:
		d, ok := it.dtVal()
		if !ok {
			return Item{}, false
		}
		d.kind = dtDateTime
		return Item{k: kDateTime, v: d}, true
	case kStr:
		sv, _ := it.strVal()
		if d, ok := ParseDateTime(sv, false); ok {
			return Item{k: kDateTime, v: d}, true
		}
	}
	return Item{}, false
}

func convTime(it Item) (Item, bool) {
	switch it.normKind() {
	case kTime:
		d, ok := it.dtVal()
		return Item{k: kTime, v: d}, ok
	case kStr:
		sv, _ := it.strVal()
		sv = strings.TrimPrefix(sv, "T")
		if d, ok := ParseTime(sv); ok {
			return Item{k: kTime, v: d}, true
		}
	}
	return Item{}, false
}

var quantityStringRE = regexp.MustCompile(`^([+-]?\d+(?:\.\d+)?)\s*(?:'([^']*)'|([a-zA-Z]+))?$`)

func convQuantity(it Item) (Quantity, bool) {
	switch it.normKind() {
	case kQty:
		return it.qtyVal()
	case kInt, kLong, kDec:
		d, ok := it.decVal()
		return Quantity{Value: d, Unit: "1"}, ok
	case kBool:
		b, _ := it.boolVal()
		if b {
			return Quantity{Value: DecimalFromInt(1), Unit: "1"}, true
		}
		return Quantity{Value: DecimalFromInt(0), Unit: "1"}, true
	case kStr:
		sv, _ := it.strVal()
		m := quantityStringRE.FindStringSubmatch(strings.TrimSpace(sv))
		if m == nil {
			return Quantity{}, false
		}
		d, ok := ParseDecimal(m[1])
		if !ok {
			return Quantity{}, false
		}
		unit := "1"
		switch {
		case m[2] != "":
			unit = m[2]
		case m[3] != "":
			if !isCalendarUnit(m[3]) {
				return Quantity{}, false
			}
			unit = m[3]
		}
		return Quantity{Value: d, Unit: unit}, true
	}
	return Quantity{}, false
}

func fnToQuantity(c *evalCtx, s *scope, f Collection, n *callNode) (Collection, error) {
	it, ok, err := single(n.name, f)
	if err != nil || !ok {
		return nil, err
	}
	q, ok := convQuantity(it)
	if ok && len(n.args) == 1 {
		unit, uok, err := n.stringArg(c, s, 0)
		if err != nil {
			return nil, err
		}
		if uok && unit != q.Unit {
			v, ui := q.canonical()
			target := parseUnit(unit)
			if ui.opaque != "" || target.opaque != "" || ui.dim != target.dim {
				ok = false
			} else {
				cv, dok := v.Div(target.factor)
				ok = dok
				q = Quantity{Value: cv, Unit: unit}
			}
		}
	}
	if n.name == "convertsToQuantity" {
		return boolColl(ok), nil
	}
	if !ok {
		return nil, nil
	}
	return Collection{QuantityItem(q)}, nil
}

// ---- strings ----

func fnIndexOf(c *evalCtx, s *scope, f Collection, n *callNode) (Collection, error) {
	str, ok, err := focusString(n.name, f)
	if err != nil || !ok {
		return nil, err
	}
	sub, ok, err := n.stringArg(c, s, 0)
	if err != nil || !ok {
		return nil, err
	}
	var i int
	if n.name == "lastIndexOf" {
		i = strings.LastIndex(str, sub)
	} else {
		i = strings.Index(str, sub)
	}
	if i > 0 {
		i = utf8.RuneCountInString(str[:i])
	}
	return Collection{Integer(int64(i))}, nil
}

func fnSubstring(c *evalCtx, s *scope, f Collection, n *callNode) (Collection, error) {
	str, ok, err := focusString(n.name, f)
	if err != nil || !ok {
		return nil, err
	}
	start, ok, err := n.intArg(c, s, 0)
	if err != nil || !ok {
		return nil, err
	}
	r := []rune(str)
	if start < 0 || start >= int64(len(r)) {
		return nil, nil
	}
	end := int64(len(r))
	if len(n.args) > 1 {
		l, ok, err := n.intArg(c, s, 1)
		if err != nil {
			return nil, err
		}
		if ok {
			if l < 0 {
				l = 0
			}
			if l < end-start {
				end = start + l
			}
		}
	}
	return Collection{String(string(r[start:end]))}, nil
}

func fnStrPredicate(c *evalCtx, s *scope, f Collection, n *callNode) (Collection, error) {
	str, ok, err := focusString(n.name, f)
	if err != nil || !ok {
		return nil, err
	}
	sub, ok, err := n.stringArg(c, s, 0)
	if err != nil || !ok {
		return nil, err
	}
	switch n.name {
	case "startsWith":
		return boolColl(strings.HasPrefix(str, sub)), nil
	case "endsWith":
		return boolColl(strings.HasSuffix(str, sub)), nil
	}
	return boolColl(strings.Contains(str, sub)), nil
}

func fnStrMap(c *evalCtx, s *scope, f Collection, n *callNode) (Collection, error) {
	str, ok, err := focusString(n.name, f)
	if err != nil || !ok {
		return nil, err
	}
	switch n.name {
	case "upper":
		str = strings.ToUpper(str)
	case "lower":
		str = strings.ToLower(str)
	default:
		str = strings.TrimSpace(str)
	}
	return Collection{String(str)}, nil
}

func fnToChars(c *evalCtx, s *scope, f Collection, n *callNode) (Collection, error) {
	str, ok, err := focusString(n.name, f)
	if err != nil || !ok {
		return nil, err
	}
	if err := c.checkSize(len(str)); err != nil {
		return nil, err
	}
	var out Collection
	for _, r := range str {
		out = append(out, String(string(r)))
	}
	return out, nil
}

func fnLength(c *evalCtx, s *scope, f Collection, n *callNode) (Collection, error) {
	str, ok, err := focusString(n.name, f)
	if err != nil || !ok {
		return nil, err
	}
	return Collection{Integer(int64(utf8.RuneCountInString(str)))}, nil
}

func fnReplace(c *evalCtx, s *scope, f Collection, n *callNode) (Collection, error) {
	str, ok, err := focusString(n.name, f)
	if err != nil || !ok {
		return nil, err
	}
	pat, ok, err := n.stringArg(c, s, 0)
	if err != nil || !ok {
		return nil, err
	}
	rep, ok, err := n.stringArg(c, s, 1)
	if err != nil || !ok {
		return nil, err
	}
	count := strings.Count(str, pat)
	if pat == "" {
		count = utf8.RuneCountInString(str) + 1
	}
	if len(str)+count*len(rep) > maxStringLen {
		return nil, errorf("replace(): result too long")
	}
	return Collection{String(strings.ReplaceAll(str, pat, rep))}, nil
}

var regexCache sync.Map

func compileRegex(pat string, full bool) (*regexp.Regexp, error) {
	key := pat
	if full {
		key = "\x00" + pat
	}
	if r, ok := regexCache.Load(key); ok {
		return r.(*regexp.Regexp), nil
	}
	if len(pat) > 10000 {
		return nil, errorf("regular expression too long")
	}
	src := "(?s)" + pat
	if full {
		src = "(?s)^(?:" + pat + ")$"
	}
	r, err := regexp.Compile(src)
	if err != nil {
		return nil, errorf("invalid regular expression %q: %v", truncate(pat, 60), err)
	}
	regexCache.Store(key, r)
	return r, nil
}

func fnMatches(c *evalCtx, s *scope, f Collection, n *callNode) (Collection, error) {
	str, ok, err := focusString(n.name, f)
	if err != nil || !ok {
		return nil, err
	}
	pat, ok, err := n.stringArg(c, s, 0)
	if err != nil || !ok {
		return nil, err
	}
	re, err := compileRegex(pat, n.name == "matchesFull")
	if err != nil {
		return nil, err
	}
	if err := c.step(len(str) / 64); err != nil {
		return nil, err
	}
	return boolColl(re.MatchString(str)), nil
}

func fnReplaceMatches(c *evalCtx, s *scope, f Collection, n *callNode) (Collection, error) {
	str, ok, err := focusString(n.name, f)
	if err != nil || !ok {
		return nil, err
	}
	pat, ok, err := n.stringArg(c, s, 0)
	if err != nil || !ok {
		return nil, err
	}
	rep, ok, err := n.stringArg(c, s, 1)
	if err != nil || !ok {
		return nil, err
	}
	if pat == "" {
		return Collection{String(str)}, nil
	}
	re, err := compileRegex(pat, false)
	if err != nil {
		return nil, err
	}
	if len(str)*(len(rep)+1) > maxStringLen {
		return nil, errorf("replaceMatches(): input too long")
	}
	return Collection{String(re.ReplaceAllString(str, rep))}, nil
}

func fnSplit(c *evalCtx, s *scope, f Collection, n *callNode) (Collection, error) {
	str, ok, err := focusString(n.name, f)
	if err != nil || !ok {
		return nil, err
	}
	sep, ok, err := n.stringArg(c, s, 0)
	if err != nil || !ok {
		return nil, err
	}
	parts := strings.Split(str, sep)
	if err := c.checkSize(len(parts)); err != nil {
		return nil, err
	}
	out := make(Collection, 0, len(parts))
	for _, p := range parts {
		out = append(out, String(p))
	}
	return out, nil
}

func fnJoin(c *evalCtx, s *scope, f Collection, n *callNode) (Collection, error) {
	sep := ""
	if len(n.args) > 0 {
		v, ok, err := n.stringArg(c, s, 0)
		if err != nil {
			return nil, err
		}
		if ok {
			sep = v
		}
	}
	parts := make([]string, 0, len(f))
	total := 0
	for _, it := range f {
		str, ok := toStringValue(it)
		if !ok || it.k == kNode {
			return nil, errorf("join() needs strings, got %s", it.Type().Name)
		}
		total += len(str) + len(sep)
		if total > maxStringLen {
			return nil, errorf("join(): result too long")
		}
		parts = append(parts, str)
	}
	return Collection{String(strings.Join(parts, sep))}, nil
}

func fnEncode(c *evalCtx, s *scope, f Collection, n *callNode) (Collection, error) {
	str, ok, err := focusString(n.name, f)
	if err != nil || !ok {
		return nil, err
	}
	enc, ok, err := n.stringArg(c, s, 0)
	if err != nil || !ok {
		return nil, err
	}
	if n.name == "encode" {
		switch enc {
		case "hex":
			return Collection{String(hex.EncodeToString([]byte(str)))}, nil
		case "base64":
			return Collection{String(base64.StdEncoding.EncodeToString([]byte(str)))}, nil
		case "urlbase64":
			return Collection{String(base64.URLEncoding.EncodeToString([]byte(str)))}, nil
		}
		return nil, errorf("encode(): unknown encoding %q", enc)
	}
	var b []byte
	switch enc {
	case "hex":
		b, err = hex.DecodeString(str)
	case "base64":
		b, err = base64.StdEncoding.DecodeString(str)
	case "urlbase64":
		b, err = base64.URLEncoding.DecodeString(str)
	default:
		return nil, errorf("decode(): unknown encoding %q", enc)
	}
	if err != nil {
		return nil, nil
	}
	return Collection{String(string(b))}, nil
}

var htmlUnescaper = strings.NewReplacer("&quot;", "\"", "&lt;", "<", "&gt;", ">", "&#39;", "'", "&apos;", "'", "&amp;", "&")
var htmlEscaper = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", "\"", "&quot;", "'", "&#39;")

func fnEscape(c *evalCtx, s *scope, f Collection, n *callNode) (Collection, error) {
	str, ok, err := focusString(n.name, f)
	if err != nil || !ok {
		return nil, err
	}
	target, ok, err := n.stringArg(c, s, 0)
	if err != nil || !ok {
		return nil, err
	}
	switch {
	case target == "html" && n.name == "escape":
		return Collection{String(htmlEscaper.Replace(str))}, nil
	case target == "html":
		return Collection{String(htmlUnescaper.Replace(str))}, nil
	case target == "json" && n.name == "escape":
		return Collection{String(jsonEscape(str))}, nil
	case target == "json":
		u, ok := jsonUnescape(str)
		if !ok {
			return nil, nil
		}
		return Collection{String(u)}, nil
	}
	return nil, errorf("%s(): unknown target %q", n.name, target)
}

// ---- math ----

func fnMath(c *evalCtx, s *scope, f Collection, n *callNode) (Collection, error) {
	it, ok, err := single(n.name, f)
	if err != nil || !ok {
		return nil, err
	}
	k := it.normKind()
	if k == kQty && n.name == "abs" {
		q, _ := it.qtyVal()
		q.Value = q.Value.Abs()
		return Collection{QuantityItem(q)}, nil
	}
	if k != kInt && k != kLong && k != kDec {
		return nil, errorf("%s() needs a number, got %s", n.name, it.Type().Name)
	}
	d, ok := it.decVal()
	if !ok {
		return nil, nil
	}
	isInt := k != kDec
	switch n.name {
	case "abs":
		if isInt {
			v, _ := it.intVal()
			if v == math.MinInt64 {
				return nil, errorf("integer overflow")
			}
			if v < 0 {
				v = -v
			}
			return Collection{Integer(v)}, nil
		}
		return Collection{DecimalItem(d.Abs())}, nil
	case "ceiling", "floor", "truncate":
		var r Decimal
		switch n.name {
		case "ceiling":
			r = d.ceilAt(0)
		case "floor":
			r = d.floorAt(0)
		default:
			r = d.Truncate()
		}
		v, ok := r.Int64()
		if !ok {
			return nil, errorf("%s(): result out of integer range", n.name)
		}
		return Collection{Integer(v)}, nil
	case "round":
		p := int64(0)
		if len(n.args) > 0 {
			v, ok, err := n.intArg(c, s, 0)
			if err != nil {
				return nil, err
			}
			if ok {
				if v < 0 || v > maxDecimalScale {
					return nil, errorf("round(): precision must be between 0 and %d", maxDecimalScale)
				}
				p = v
			}
		}
		return Collection{DecimalItem(d.Round(int32(p)))}, nil
	}
	x := d.Float64()
	var r float64
	switch n.name {
	case "exp":
		r = math.Exp(x)
	case "ln":
		r = math.Log(x)
	case "sqrt":
		if x < 0 {
			return nil, nil
		}
		r = math.Sqrt(x)
	case "log", "power":
		a, ok, err := n.singleArg(c, s, 0)
		if err != nil || !ok {
			return nil, err
		}
		ak := a.normKind()
		if ak != kInt && ak != kLong && ak != kDec {
			return nil, errorf("%s(): argument must be a number", n.name)
		}
		ad, _ := a.decVal()
		y := ad.Float64()
		if n.name == "log" {
			r = math.Log(x) / math.Log(y)
		} else {
			if isInt && ak != kDec && y >= 0 {
				base, _ := it.intVal()
				e, _ := a.intVal()
				if v, ok := intPow(base, e); ok {
					return Collection{Integer(v)}, nil
				}
				return nil, errorf("power(): integer overflow")
			}
			if ad.IsInteger() && ad.Sign() >= 0 && ad.Cmp(DecimalFromInt(1024)) <= 0 {
				e, _ := ad.Int64()
				r, ok := decimalPow(d, e)
				if !ok {
					return nil, errorf("power(): result too large")
				}
				if r = r.trimZeros(); r.scale < d.scale {
					r = r.rescale(d.scale)
				}
				return Collection{DecimalItem(r)}, nil
			}
			r = math.Pow(x, y)
		}
	}
	res, ok := decimalFromFloat(r)
	if !ok {
		return nil, nil
	}
	return Collection{DecimalItem(res)}, nil
}

// decimalPow is exact exponentiation by squaring for small non-negative integer exponents.
func decimalPow(b Decimal, e int64) (Decimal, bool) {
	r := DecimalFromInt(1)
	for e > 0 {
		if e&1 == 1 {
			r = r.Mul(b)
			if r.tooBig() {
				return Decimal{}, false
			}
		}
		e >>= 1
		if e > 0 {
			b = b.Mul(b)
			if b.tooBig() {
				return Decimal{}, false
			}
		}
	}
	return r, true
}

func intPow(b, e int64) (int64, bool) {
	switch b {
	case 0:
		if e == 0 {
			return 1, true
		}
		return 0, true
	case 1:
		return 1, true
	case -1:
		if e%2 == 0 {
			return 1, true
		}
		return -1, true
	}
	r := int64(1)
	for i := int64(0); i < e; i++ {
		n := r * b
		if b != 0 && n/b != r {
			return 0, false
		}
		r = n
		if i > 64 && (r == 0 || r == 1) {
			break
		}
		if i > 128 {
			return 0, false
		}
	}
	return r, true
}

// ---- tree navigation ----

func childItems(it Item) Collection {
	obj, ok := it.v.(map[string]any)
	if !ok || it.k != kNode {
		if it.ext != nil {
			return append(primitiveChildren(it, "id"), primitiveChildren(it, "extension")...)
		}
		return nil
	}
	var out Collection
	m := r4()
	td := m.typ(it.fhir)
	for _, key := range sortedKeys(obj) {
		if key == "resourceType" {
			continue
		}
		name := key
		if strings.HasPrefix(key, "_") {
			name = key[1:]
			if _, dup := obj[name]; dup {
				continue
			}
		}
		t := ""
		if td != nil {
			if e := td.element(name); e != nil && !e.choice {
				t = e.types[0]
			} else if cr, ok := td.concreteChoice(name); ok {
				t = cr.typ
			}
		}
		out = appendChild(out, obj, name, t)
	}
	return out
}

func fnChildren(c *evalCtx, s *scope, f Collection, n *callNode) (Collection, error) {
	var out Collection
	for _, it := range f {
		ch := childItems(it)
		if err := c.step(len(ch) + 1); err != nil {
			return nil, err
		}
		out = append(out, ch...)
		if err := c.checkSize(len(out)); err != nil {
			return nil, err
		}
	}
	return out, nil
}

func fnDescendants(c *evalCtx, s *scope, f Collection, n *callNode) (Collection, error) {
	var out Collection
	queue := f
	for len(queue) > 0 {
		var next Collection
		for _, it := range queue {
			ch := childItems(it)
			if err := c.step(len(ch) + 1); err != nil {
				return nil, err
			}
			out = append(out, ch...)
			next = append(next, ch...)
			if err := c.checkSize(len(out)); err != nil {
				return nil, err
			}
		}
		queue = next
	}
	return out, nil
}

// ---- utility ----

func fnTrace(c *evalCtx, s *scope, f Collection, n *callNode) (Collection, error) {
	name, _, err := n.stringArg(c, s, 0)
	if err != nil {
		return nil, err
	}
	shown := f
	if len(n.args) > 1 {
		var proj Collection
		err := n.forEach(c, f, 1, func(_ int, _ Item, r Collection) (bool, error) {
			proj = append(proj, r...)
			return true, nil
		})
		if err != nil {
			return nil, err
		}
		shown = proj
	}
	if c.trace != nil && len(shown) > 0 { // empty traces (dom-3 on every resource) are not written
		var b strings.Builder
		fmt.Fprintf(&b, "trace %s:", name)
		for i, it := range shown {
			if i >= 100 {
				fmt.Fprintf(&b, " … (%d items)", len(shown))
				break
			}
			b.WriteString(" ")
			b.WriteString(truncate(it.String(), 500))
		}
		b.WriteString("\n")
		_, _ = c.trace.Write([]byte(b.String()))
	}
	return f, nil
}

func fnNow(c *evalCtx, s *scope, f Collection, n *callNode) (Collection, error) {
	if c.now.IsZero() {
		c.now = time.Now()
	}
	switch n.name {
	case "today":
		return Collection{{k: kDate, v: dateTimeFromGo(c.now, dtDate)}}, nil
	case "timeOfDay":
		return Collection{{k: kTime, v: dateTimeFromGo(c.now, dtTime)}}, nil
	}
	return Collection{{k: kDateTime, v: dateTimeFromGo(c.now, dtDateTime)}}, nil
}

func fnAggregate(c *evalCtx, s *scope, f Collection, n *callNode) (Collection, error) {
	var total Collection
	if len(n.args) > 1 {
		var err error
		if total, err = n.arg(c, s, 1); err != nil {
			return nil, err
		}
	}
	for idx, it := range f {
		if err := c.step(1); err != nil {
			return nil, err
		}
		sc := &scope{input: Collection{it}, index: idx, hasIndex: true, total: total, hasTotal: true}
		r, err := n.args[0].eval(c, sc, sc.input)
		if err != nil {
			return nil, err
		}
		total = r
	}
	return total, nil
}

type sortKey struct {
	desc bool
	expr node
}

func fnSort(c *evalCtx, s *scope, f Collection, n *callNode) (Collection, error) {
	keys := make([]sortKey, 0, len(n.args))
	for _, a := range n.args {
		if u, ok := a.(*unaryNode); ok && u.neg {
			keys = append(keys, sortKey{desc: true, expr: u.x})
		} else {
			keys = append(keys, sortKey{expr: a})
		}
	}
	if len(keys) == 0 {
		keys = append(keys, sortKey{expr: &varNode{name: "$this"}})
	}
	type row struct {
		it   Item
		vals []Collection
	}
	rows := make([]row, len(f))
	for i, it := range f {
		rows[i].it = it
		for _, k := range keys {
			sc := &scope{input: Collection{it}, index: i, hasIndex: true}
			v, err := k.expr.eval(c, sc, sc.input)
			if err != nil {
				return nil, err
			}
			if len(v) > 1 {
				return nil, errorf("sort(): key must be a single value, got %d items", len(v))
			}
			rows[i].vals = append(rows[i].vals, v)
		}
	}
	if err := c.step(len(rows) * 4); err != nil {
		return nil, err
	}
	var sortErr error
	sort.SliceStable(rows, func(i, j int) bool {
		for k, key := range keys {
			a, b := rows[i].vals[k], rows[j].vals[k]
			var cmp int
			switch {
			case len(a) == 0 && len(b) == 0:
				continue
			case len(a) == 0: // empty keys sort first in either direction
				return true
			case len(b) == 0:
				return false
			default:
				var ok bool
				var err error
				cmp, ok, err = compareItems(a[0], b[0])
				if err != nil && sortErr == nil {
					sortErr = err
				}
				if !ok {
					continue
				}
			}
			if cmp == 0 {
				continue
			}
			if key.desc {
				return cmp > 0
			}
			return cmp < 0
		}
		return false
	})
	if sortErr != nil {
		return nil, sortErr
	}
	out := make(Collection, len(rows))
	for i, r := range rows {
		out[i] = r.it
	}
	return out, nil
}

func fnPrecision(c *evalCtx, s *scope, f Collection, n *callNode) (Collection, error) {
	it, ok, err := single(n.name, f)
	if err != nil || !ok {
		return nil, err
	}
	switch it.normKind() {
	case kDec, kInt, kLong:
		d, _ := it.decVal()
		return Collection{Integer(int64(d.Scale()))}, nil
	case kDate, kDateTime, kTime:
		d, ok := it.dtVal()
		if !ok {
			return nil, nil
		}
		return Collection{Integer(int64(d.precisionDigits()))}, nil
	case kQty:
		q, _ := it.qtyVal()
		return Collection{Integer(int64(q.Value.Scale()))}, nil
	}
	return nil, errorf("precision() is not defined for %s", it.Type().Name)
}

func decimalBoundary(d Decimal, high bool, p int64) (Decimal, bool) {
	if p < 0 || p > 31 {
		return Decimal{}, false
	}
	half := Decimal{coef: big5(), scale: d.scale + 1}
	var b Decimal
	if high {
		b = d.Add(half)
	} else {
		b = d.Sub(half)
	}
	if int64(b.scale) <= p {
		return b.rescale(int32(p)), true
	}
	// fewer digits than the value has: values smaller than one unit collapse to zero
	if d.Abs().Cmp(Decimal{coef: pow10(0), scale: int32(p)}) < 0 && p > 0 {
		return Decimal{coef: bigZero, scale: int32(p), negZero: d.Sign() < 0}, true
	}
	if high {
		return b.ceilAt(int32(p)), true
	}
	return b.floorAt(int32(p)), true
}

func fnBoundary(c *evalCtx, s *scope, f Collection, n *callNode) (Collection, error) {
	it, ok, err := single(n.name, f)
	if err != nil || !ok {
		return nil, err
	}
	high := n.name == "highBoundary"
	p := int64(-1)
	if len(n.args) > 0 {
		v, ok, err := n.intArg(c, s, 0)
		if err != nil {
			return nil, err
		}
		if ok {
			p = v
		}
	}
	switch it.normKind() {
	case kInt, kLong, kDec:
		d, _ := it.decVal()
		if p == -1 && len(n.args) == 0 {
			p = 8
		}
		r, ok := decimalBoundary(d, high, p)
		if !ok {
			return nil, nil
		}
		return Collection{DecimalItem(r)}, nil
	case kQty:
		q, _ := it.qtyVal()
		if p == -1 && len(n.args) == 0 {
			p = 8
		}
		r, ok := decimalBoundary(q.Value, high, p)
		if !ok {
			return nil, nil
		}
		return Collection{QuantityItem(Quantity{Value: r, Unit: q.Unit})}, nil
	case kDate, kDateTime, kTime:
		d, ok := it.dtVal()
		if !ok {
			return nil, nil
		}
		if p == -1 && len(n.args) == 0 {
			switch d.kind {
			case dtDate:
				p = 8
			case dtDateTime:
				p = 17
			default:
				p = 9
			}
		}
		r, ok := d.boundary(high, int(p))
		if !ok {
			return nil, nil
		}
		k := kDateTime
		switch r.kind {
		case dtDate:
			k = kDate
		case dtTime:
			k = kTime
		}
		return Collection{{k: k, v: r}}, nil
	}
	return nil, errorf("%s() is not defined for %s", n.name, it.Type().Name)
}

func fnComparable(c *evalCtx, s *scope, f Collection, n *callNode) (Collection, error) {
	it, ok, err := single(n.name, f)
	if err != nil || !ok {
		return nil, err
	}
	o, ok, err := n.singleArg(c, s, 0)
	if err != nil || !ok {
		return nil, err
	}
	a, ok1 := it.qtyVal()
	b, ok2 := o.qtyVal()
	if !ok1 || !ok2 {
		return nil, errorf("comparable() needs quantities")
	}
	_, ok = compareQuantities(a, b)
	return boolColl(ok), nil
}

func jsonEscape(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch r {
		case '"':
			b.WriteString(`\"`)
		case '\\':
			b.WriteString(`\\`)
		case '\n':
			b.WriteString(`\n`)
		case '\r':
			b.WriteString(`\r`)
		case '\t':
			b.WriteString(`\t`)
		case '\b':
			b.WriteString(`\b`)
		case '\f':
			b.WriteString(`\f`)
		default:
			if r < 0x20 {
				fmt.Fprintf(&b, "\\u%04x", r)
			} else {
				b.WriteRune(r)
			}
		}
	}
	return b.String()
}

func jsonUnescape(s string) (string, bool) {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c != '\\' {
			b.WriteByte(c)
			continue
		}
		if i+1 >= len(s) {
			return "", false
		}
		i++
		switch s[i] {
		case '"', '\\', '/':
			b.WriteByte(s[i])
		case 'n':
			b.WriteByte('\n')
		case 'r':
			b.WriteByte('\r')
		case 't':
			b.WriteByte('\t')
		case 'b':
			b.WriteByte('\b')
		case 'f':
			b.WriteByte('\f')
		case 'u':
			if i+5 > len(s) {
				return "", false
			}
			n, err := strconv.ParseUint(s[i+1:i+5], 16, 32)
			if err != nil {
				return "", false
			}
			b.WriteRune(rune(n))
			i += 4
		default:
			return "", false
		}
	}
	return b.String(), true
}
