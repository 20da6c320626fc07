package fhirpath

import (
	"strings"
)

type binaryNode struct {
	op   string
	l, r node
}

func newBinary(op string, l, r node) node { return &binaryNode{op: op, l: l, r: r} }

// toBool3 converts a collection to three-valued logic: 1 true, 0 false, -1 empty.
func toBool3(v Collection, what string) (int, error) {
	if len(v) == 0 {
		return -1, nil
	}
	if len(v) > 1 {
		return 0, errorf("%s needs a single boolean, got %d items", what, len(v))
	}
	if v[0].k == kBool {
		b, ok := v[0].boolVal()
		if !ok {
			return -1, nil
		}
		if b {
			return 1, nil
		}
		return 0, nil
	}
	// singleton evaluation of collections: a single non-boolean item counts as true
	return 1, nil
}

func bool3(x int) Collection {
	switch x {
	case 1:
		return boolColl(true)
	case 0:
		return boolColl(false)
	}
	return nil
}

func (n *binaryNode) eval(c *evalCtx, s *scope, in Collection) (Collection, error) {
	if err := c.step(1); err != nil {
		return nil, err
	}
	switch n.op {
	case "and", "or", "xor", "implies":
		return n.evalLogic(c, s, in)
	}
	l, err := n.l.eval(c, s, in)
	if err != nil {
		return nil, err
	}
	r, err := n.r.eval(c, s, in)
	if err != nil {
		return nil, err
	}
	switch n.op {
	case "|":
		if err := c.checkSize(len(l) + len(r)); err != nil {
			return nil, err
		}
		if err := c.step(len(l) + len(r)); err != nil {
			return nil, err
		}
		w := c.meter()
		out := union(l, r, w)
		return out, c.charge(w)
	case "=", "!=":
		w := c.meter()
		res, ok := collectionsEqual(l, r, w)
		if err := c.charge(w); err != nil || !ok {
			return nil, err
		}
		return boolColl(res == (n.op == "=")), nil
	case "~", "!~":
		w := c.meter()
		res := collectionsEquivalent(l, r, w)
		if err := c.charge(w); err != nil {
			return nil, err
		}
		return boolColl(res == (n.op == "~")), nil
	case "in", "contains":
		elem, coll := l, r
		if n.op == "contains" {
			elem, coll = r, l
		}
		if len(elem) == 0 {
			return nil, nil
		}
		if len(elem) > 1 {
			return nil, errorf("'%s' needs a single item, got %d", n.op, len(elem))
		}
		if err := c.step(len(coll)); err != nil {
			return nil, err
		}
		w := c.meter()
		found := containsItem(coll, elem[0], w)
		if err := c.charge(w); err != nil {
			return nil, err
		}
		return boolColl(found), nil
	case "&":
		if len(l) > 1 || len(r) > 1 {
			return nil, errorf("'&' needs single strings")
		}
		var a, b string
		if len(l) == 1 {
			var ok bool
			if a, ok = toStringValue(l[0]); !ok || l[0].k != kStr {
				return nil, errorf("'&' needs strings, got %s", l[0].Type().Name)
			}
		}
		if len(r) == 1 {
			var ok bool
			if b, ok = toStringValue(r[0]); !ok || r[0].k != kStr {
				return nil, errorf("'&' needs strings, got %s", r[0].Type().Name)
			}
		}
		if len(a)+len(b) > maxStringLen {
			return nil, errorf("string result too long")
		}
		out := Collection{String(a + b)}
		return out, c.chargeStrings(out)
	}
	if len(l) == 0 || len(r) == 0 {
		return nil, nil
	}
	if len(l) > 1 || len(r) > 1 {
		return nil, errorf("operator %s needs single items, got %d and %d", n.op, len(l), len(r))
	}
	switch n.op {
	case "<", ">", "<=", ">=":
		cmp, ok, err := compareItems(l[0], r[0])
		if err != nil {
			return nil, err
		}
		if !ok {
			return nil, nil
		}
		switch n.op {
		case "<":
			return boolColl(cmp < 0), nil
		case ">":
			return boolColl(cmp > 0), nil
		case "<=":
			return boolColl(cmp <= 0), nil
		default:
			return boolColl(cmp >= 0), nil
		}
	}
	out, err := arith(n.op, l[0], r[0])
	if err != nil {
		return nil, err
	}
	return out, c.chargeStrings(out)
}

func (n *binaryNode) evalLogic(c *evalCtx, s *scope, in Collection) (Collection, error) {
	l, err := n.l.eval(c, s, in)
	if err != nil {
		return nil, err
	}
	a, err := toBool3(l, "'"+n.op+"'")
	if err != nil {
		return nil, err
	}
	// short circuits
	switch {
	case n.op == "and" && a == 0:
		return bool3(0), nil
	case n.op == "or" && a == 1:
		return bool3(1), nil
	case n.op == "implies" && a == 0:
		return bool3(1), nil
	}
	r, err := n.r.eval(c, s, in)
	if err != nil {
		return nil, err
	}
	b, err := toBool3(r, "'"+n.op+"'")
	if err != nil {
		return nil, err
	}
	switch n.op {
	case "and":
		if b == 0 {
			return bool3(0), nil
		}
		if a == 1 && b == 1 {
			return bool3(1), nil
		}
		return nil, nil
	case "or":
		if b == 1 {
			return bool3(1), nil
		}
		if a == 0 && b == 0 {
			return bool3(0), nil
		}
		return nil, nil
	case "xor":
		if a < 0 || b < 0 {
			return nil, nil
		}
		return bool3(a ^ b), nil
	default: // implies; a is true or empty
		if b == 1 {
			return bool3(1), nil
		}
		if a == 1 {
			return bool3(b), nil
		}
		return nil, nil
	}
}

// union merges without duplicates, preserving order.
func union(a, b Collection, w *work) Collection {
	d := deduper{w: w}
	out := make(Collection, 0, len(a)+len(b))
	for _, src := range [2]Collection{a, b} {
		for _, it := range src {
			if d.add(it) {
				out = append(out, it)
			}
		}
	}
	return out
}

// hashKey returns a key for items whose equality is exact value equality (strings,
// booleans, numbers); other items are compared pairwise.
func hashKey(it Item) (string, bool) {
	switch it.k {
	case kStr:
		s, ok := it.strVal()
		return "s" + s, ok
	case kBool:
		b, ok := it.boolVal()
		if b {
			return "t", ok
		}
		return "f", ok
	case kInt, kLong, kDec:
		d, ok := it.decVal()
		if !ok {
			return "", false
		}
		return "n" + d.trimZeros().String(), true
	}
	return "", false
}

// deduper tracks the distinct items seen so far (by '=' semantics).
type deduper struct {
	keys  map[string]struct{}
	other Collection
	w     *work
}

// add reports whether it was not seen before, and records it.
func (d *deduper) add(it Item) bool {
	if k, ok := hashKey(it); ok {
		if d.keys == nil {
			d.keys = make(map[string]struct{})
		}
		if _, dup := d.keys[k]; dup {
			return false
		}
		d.keys[k] = struct{}{}
		return true
	}
	if containsItem(d.other, it, d.w) {
		return false
	}
	d.other = append(d.other, it)
	return true
}

func (d *deduper) has(it Item) bool {
	if k, ok := hashKey(it); ok {
		_, dup := d.keys[k]
		return dup
	}
	return containsItem(d.other, it, d.w)
}

func containsItem(c Collection, it Item, w *work) bool {
	for _, x := range c {
		if !w.spend(1) {
			return false
		}
		if eq, ok := itemsEqual(x, it, w); ok && eq {
			return true
		}
	}
	return false
}

// collectionsEqual implements '=': ok false means empty.
func collectionsEqual(a, b Collection, w *work) (bool, bool) {
	if len(a) == 0 || len(b) == 0 {
		return false, false
	}
	if len(a) != len(b) {
		return false, true
	}
	for i := range a {
		eq, ok := itemsEqual(a[i], b[i], w)
		if !ok {
			return false, false
		}
		if !eq {
			return false, true
		}
	}
	return true, true
}

// itemsEqual compares two items; ok false means the result is empty (unknown).
func itemsEqual(a, b Item, w *work) (bool, bool) {
	ka, kb := a.normKind(), b.normKind()
	switch {
	case ka == kNode && kb == kNode:
		return jsonEqual(a.v, b.v, false, w), true
	case ka == kNode || kb == kNode:
		return false, true
	}
	if (ka == kInt || ka == kLong || ka == kDec) && (kb == kInt || kb == kLong || kb == kDec) {
		if ka != kDec && kb != kDec {
			x, ok1 := a.intVal()
			y, ok2 := b.intVal()
			if ok1 && ok2 {
				return x == y, true
			}
		}
		x, ok1 := a.decVal()
		y, ok2 := b.decVal()
		if !ok1 || !ok2 {
			return false, false
		}
		return x.Cmp(y) == 0, true
	}
	switch ka {
	case kStr:
		if kb != kStr {
			return false, true
		}
		x, ok1 := a.strVal()
		y, ok2 := b.strVal()
		if !ok1 || !ok2 {
			return false, false
		}
		return x == y, true
	case kBool:
		if kb != kBool {
			return false, true
		}
		x, ok1 := a.boolVal()
		y, ok2 := b.boolVal()
		if !ok1 || !ok2 {
			return false, false
		}
		return x == y, true
	case kDate, kDateTime, kTime:
		if kb != kDate && kb != kDateTime && kb != kTime {
			return false, true
		}
		x, ok1 := a.dtVal()
		y, ok2 := b.dtVal()
		if !ok1 || !ok2 {
			return false, false
		}
		if (x.kind == dtTime) != (y.kind == dtTime) {
			return false, true
		}
		cmp, ok := compareDT(x, y)
		if !ok {
			return false, false
		}
		return cmp == 0, true
	case kQty:
		if kb != kQty {
			return false, true
		}
		x, ok1 := a.qtyVal()
		y, ok2 := b.qtyVal()
		if !ok1 || !ok2 {
			return false, false
		}
		cmp, ok := compareQuantities(x, y)
		if !ok {
			return false, false
		}
		return cmp == 0, true
	case kType:
		return a.v == b.v, true
	}
	return false, true
}

func collectionsEquivalent(a, b Collection, w *work) bool {
	if len(a) != len(b) {
		return false
	}
	if len(a) == 0 {
		return true
	}
	used := make([]bool, len(b))
outer:
	for _, x := range a {
		for j, y := range b {
			if !used[j] && w.spend(1) && itemsEquivalent(x, y, w) {
				used[j] = true
				continue outer
			}
		}
		return false
	}
	return true
}

func itemsEquivalent(a, b Item, w *work) bool {
	ka, kb := a.normKind(), b.normKind()
	if ka == kNode && kb == kNode {
		return jsonEqual(a.v, b.v, true, w)
	}
	if (ka == kInt || ka == kLong || ka == kDec) && (kb == kInt || kb == kLong || kb == kDec) {
		x, ok1 := a.decVal()
		y, ok2 := b.decVal()
		return ok1 && ok2 && decimalsEquivalent(x, y)
	}
	switch ka {
	case kStr:
		x, ok1 := a.strVal()
		y, ok2 := b.strVal()
		return kb == kStr && ok1 && ok2 && normalizeForEquiv(x) == normalizeForEquiv(y)
	case kDate, kDateTime, kTime:
		x, ok1 := a.dtVal()
		y, ok2 := b.dtVal()
		if !ok1 || !ok2 || x.prec != y.prec && !(x.prec >= precSecond && y.prec >= precSecond) {
			return false
		}
		cmp, ok := compareDT(x, y)
		return ok && cmp == 0
	case kQty:
		x, ok1 := a.qtyVal()
		y, ok2 := b.qtyVal()
		return kb == kQty && ok1 && ok2 && quantitiesEquivalent(x, y)
	}
	eq, ok := itemsEqual(a, b, w)
	return ok && eq
}

// compareItems orders two items: ok false means empty; err for incomparable types.
func compareItems(a, b Item) (int, bool, error) {
	ka, kb := a.normKind(), b.normKind()
	if (ka == kInt || ka == kLong || ka == kDec) && (kb == kInt || kb == kLong || kb == kDec) {
		x, ok1 := a.decVal()
		y, ok2 := b.decVal()
		if !ok1 || !ok2 {
			return 0, false, nil
		}
		return x.Cmp(y), true, nil
	}
	switch {
	case ka == kStr && kb == kStr:
		x, ok1 := a.strVal()
		y, ok2 := b.strVal()
		if !ok1 || !ok2 {
			return 0, false, nil
		}
		return strings.Compare(x, y), true, nil
	case (ka == kDate || ka == kDateTime) && (kb == kDate || kb == kDateTime) || ka == kTime && kb == kTime:
		x, ok1 := a.dtVal()
		y, ok2 := b.dtVal()
		if !ok1 || !ok2 {
			return 0, false, nil
		}
		cmp, ok := compareDT(x, y)
		return cmp, ok, nil
	case ka == kQty && kb == kQty:
		x, ok1 := a.qtyVal()
		y, ok2 := b.qtyVal()
		if !ok1 || !ok2 {
			return 0, false, nil
		}
		cmp, ok := compareQuantities(x, y)
		return cmp, ok, nil
	}
	return 0, false, errorf("cannot compare %s with %s", a.Type().Name, b.Type().Name)
}

const maxStringLen = 1 << 20

func arith(op string, a, b Item) (Collection, error) {
	ka, kb := a.normKind(), b.normKind()
	isNum := func(k kind) bool { return k == kInt || k == kLong || k == kDec }
	switch {
	case isNum(ka) && isNum(kb):
		if ka != kDec && kb != kDec && op != "/" {
			x, ok1 := a.intVal()
			y, ok2 := b.intVal()
			if !ok1 || !ok2 {
				return nil, nil
			}
			var r int64
			switch op {
			case "+":
				r = x + y
				if (r > x) != (y > 0) {
					return nil, errorf("integer overflow")
				}
			case "-":
				r = x - y
				if (r < x) != (y > 0) {
					return nil, errorf("integer overflow")
				}
			case "*":
				r = x * y
				if x != 0 && (r/x != y || x == -1 && y == -1<<63) {
					return nil, errorf("integer overflow")
				}
			case "div":
				if y == 0 {
					return nil, nil
				}
				if x == -1<<63 && y == -1 {
					return nil, errorf("integer overflow")
				}
				r = x / y
			case "mod":
				if y == 0 {
					return nil, nil
				}
				if y == -1 {
					r = 0
				} else {
					r = x % y
				}
			default:
				return nil, errorf("operator %s is not defined for integers", op)
			}
			return Collection{Integer(r)}, nil
		}
		x, ok1 := a.decVal()
		y, ok2 := b.decVal()
		if !ok1 || !ok2 {
			return nil, nil
		}
		var r Decimal
		switch op {
		case "+":
			r = x.Add(y)
		case "-":
			r = x.Sub(y)
		case "*":
			r = x.Mul(y)
		case "/":
			var ok bool
			if r, ok = x.Div(y); !ok {
				return nil, nil
			}
		case "div":
			var ok bool
			if r, ok = x.DivInt(y); !ok {
				return nil, nil
			}
			n, _ := r.Int64()
			return Collection{Integer(n)}, nil
		case "mod":
			var ok bool
			if r, ok = x.Mod(y); !ok {
				return nil, nil
			}
		default:
			return nil, errorf("operator %s is not defined for decimals", op)
		}
		if r.tooBig() {
			return nil, errorf("decimal overflow")
		}
		return Collection{DecimalItem(r)}, nil
	case ka == kStr && kb == kStr && op == "+":
		x, _ := a.strVal()
		y, _ := b.strVal()
		if len(x)+len(y) > maxStringLen {
			return nil, errorf("string result too long")
		}
		return Collection{String(x + y)}, nil
	case (ka == kDate || ka == kDateTime || ka == kTime) && kb == kQty && (op == "+" || op == "-"):
		d, ok1 := a.dtVal()
		q, ok2 := b.qtyVal()
		if !ok1 || !ok2 {
			return nil, nil
		}
		sign := 1
		if op == "-" {
			sign = -1
		}
		r, err := addDuration(d, q, sign)
		if err != nil {
			return nil, err
		}
		k := kDateTime
		switch r.kind {
		case dtDate:
			k = kDate
		case dtTime:
			k = kTime
		}
		return Collection{{k: k, v: r}}, nil
	case ka == kQty && kb == kQty:
		x, ok1 := a.qtyVal()
		y, ok2 := b.qtyVal()
		if !ok1 || !ok2 {
			return nil, nil
		}
		switch op {
		case "*", "/":
			q, ok := mulQuantities(x, y, op == "/")
			if !ok {
				return nil, nil
			}
			return Collection{QuantityItem(q)}, nil
		case "+", "-":
			if x.Unit != y.Unit {
				vx, ux := x.canonical()
				vy, uy := y.canonical()
				if ux.opaque != "" || uy.opaque != "" || ux.dim != uy.dim {
					return nil, nil
				}
				// convert y into x's unit
				conv, ok := vy.Div(ux.factor)
				if !ok {
					return nil, nil
				}
				_ = vx
				y.Value = conv
			}
			if op == "+" {
				return Collection{QuantityItem(Quantity{Value: x.Value.Add(y.Value), Unit: x.Unit})}, nil
			}
			return Collection{QuantityItem(Quantity{Value: x.Value.Sub(y.Value), Unit: x.Unit})}, nil
		}
	case ka == kQty && isNum(kb) && (op == "*" || op == "/"):
		x, _ := a.qtyVal()
		y, ok := b.decVal()
		if !ok {
			return nil, nil
		}
		if op == "*" {
			return Collection{QuantityItem(Quantity{Value: x.Value.Mul(y), Unit: x.Unit})}, nil
		}
		r, ok := x.Value.Div(y)
		if !ok {
			return nil, nil
		}
		return Collection{QuantityItem(Quantity{Value: r, Unit: x.Unit})}, nil
	case isNum(ka) && kb == kQty && op == "*":
		return arith(op, b, a)
	}
	return nil, errorf("operator %s is not defined for %s and %s", op, a.Type().Name, b.Type().Name)
}
