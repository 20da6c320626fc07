package fhirpath

import (
	"strings"
)

// Quantity is a FHIRPath System.Quantity: a decimal value and a unit, either a UCUM code
// (written quoted, e.g. 'mg') or a calendar duration keyword (year, month, week, day, hour,
// minute, second, millisecond and their plurals).
type Quantity struct {
	Value Decimal
	Unit  string
}

var calendarUnits = map[string]string{
	"year": "year", "years": "year", "month": "month", "months": "month",
	"week": "week", "weeks": "week", "day": "day", "days": "day",
	"hour": "hour", "hours": "hour", "minute": "minute", "minutes": "minute",
	"second": "second", "seconds": "second", "millisecond": "millisecond", "milliseconds": "millisecond",
}

// isCalendarUnit reports whether u is a calendar keyword.
func isCalendarUnit(u string) bool { _, ok := calendarUnits[u]; return ok }

// String writes the quantity the way FHIRPath writes literals: 4 'g', 1 week.
func (q Quantity) String() string {
	if isCalendarUnit(q.Unit) {
		return q.Value.String() + " " + q.Unit
	}
	return q.Value.String() + " '" + q.Unit + "'"
}

// dims is a unit's dimension vector: m, g, s, mol, K, A, cd, rad, plus an opaque unit slot.
type dims [8]int8

type unitInfo struct {
	factor Decimal // multiplier to the base units
	dim    dims
	opaque string // for units we do not know: compared by exact spelling
}

type atom struct {
	factor string
	dim    dims
}

var ucumAtoms = map[string]atom{
	"m": {"1", dims{1}}, "g": {"1", dims{0, 1}}, "s": {"1", dims{0, 0, 1}},
	"mol": {"1", dims{0, 0, 0, 1}}, "K": {"1", dims{0, 0, 0, 0, 1}}, "A": {"1", dims{0, 0, 0, 0, 0, 1}},
	"cd": {"1", dims{0, 0, 0, 0, 0, 0, 1}}, "rad": {"1", dims{0, 0, 0, 0, 0, 0, 0, 1}},
	"1": {"1", dims{}}, "%": {"0.01", dims{}}, "[ppm]": {"0.000001", dims{}},
	"min": {"60", dims{0, 0, 1}}, "h": {"3600", dims{0, 0, 1}}, "d": {"86400", dims{0, 0, 1}},
	"wk": {"604800", dims{0, 0, 1}}, "mo": {"2629800", dims{0, 0, 1}}, "a": {"31557600", dims{0, 0, 1}},
	"L": {"0.001", dims{3}}, "l": {"0.001", dims{3}},
	"[in_i]": {"0.0254", dims{1}}, "[ft_i]": {"0.3048", dims{1}}, "[yd_i]": {"0.9144", dims{1}}, "[mi_i]": {"1609.344", dims{1}},
	"[lb_av]": {"453.59237", dims{0, 1}}, "[oz_av]": {"28.349523125", dims{0, 1}}, "[gr]": {"0.06479891", dims{0, 1}},
	"[stone_av]": {"6350.29318", dims{0, 1}},
	"Cel":        {"1", dims{0, 0, 0, 0, 1}}, // offsets are ignored: Cel only compares with Cel
	"mm[Hg]":     {"133322", dims{-1, 1, -2}}, "Pa": {"1000", dims{-1, 1, -2}}, "bar": {"100000000", dims{-1, 1, -2}},
	"eq": {"1", dims{0, 0, 0, 1}}, "U": {"1", dims{0, 0, 0, 1, 0, 0, 0, 0}}, "[iU]": {"1", dims{0, 0, 0, 0, 0, 0, 0, 0}},
	"kat": {"1", dims{0, 0, -1, 1}}, "Hz": {"1", dims{0, 0, -1}}, "J": {"1000", dims{2, 1, -2}}, "cal": {"4184", dims{2, 1, -2}},
	"W": {"1000", dims{2, 1, -3}}, "N": {"1000", dims{1, 1, -2}}, "[degF]": {"1", dims{0, 0, 0, 0, 1}},
	"deg": {"0.0174532925199433", dims{0, 0, 0, 0, 0, 0, 0, 1}}, "sr": {"1", dims{}}, "[pi]": {"3.1415926535897932", dims{}},
	"10*": {"10", dims{}}, "t": {"1000000", dims{0, 1}}, "u": {"1.6605402e-24", dims{0, 1}},
	"ar": {"100", dims{2}}, "[acr_us]": {"4046.8726", dims{2}}, "[gal_us]": {"0.003785411784", dims{3}}, "[foz_us]": {"0.0000295735295625", dims{3}},
	"[pt_us]": {"0.000473176473", dims{3}}, "[qt_us]": {"0.000946352946", dims{3}}, "[cup_us]": {"0.0002365882365", dims{3}},
	"[tsp_us]": {"0.00000492892159375", dims{3}}, "[tbs_us]": {"0.0000147867647813", dims{3}},
	"[drp]": {"0.00000005", dims{3}}, "[cm_i]": {"0.01", dims{1}},
}

var ucumPrefixes = map[byte]string{
	'Y': "1e24", 'Z': "1e21", 'E': "1e18", 'P': "1e15", 'T': "1e12", 'G': "1e9", 'M': "1e6", 'k': "1e3",
	'h': "1e2", 'd': "0.1", 'c': "0.01", 'm': "0.001", 'u': "0.000001", 'n': "1e-9", 'p': "1e-12",
	'f': "1e-15", 'a': "1e-18",
}

// calendarDefinite maps calendar keywords that have a fixed UCUM equivalent.
var calendarDefinite = map[string]string{
	"week": "wk", "day": "d", "hour": "h", "minute": "min", "second": "s", "millisecond": "ms",
}

func decConst(s string) Decimal {
	d, ok := ParseDecimal(s)
	if !ok {
		return DecimalFromInt(1)
	}
	return d
}

func lookupAtom(tok string) (Decimal, dims, bool) {
	if a, ok := ucumAtoms[tok]; ok {
		return decConst(a.factor), a.dim, true
	}
	if len(tok) > 1 {
		if p, ok := ucumPrefixes[tok[0]]; ok {
			if a, ok := ucumAtoms[tok[1:]]; ok && tok[1:] != "1" && tok[1:] != "%" {
				return decConst(p).Mul(decConst(a.factor)), a.dim, true
			}
		}
		if strings.HasPrefix(tok, "da") {
			if a, ok := ucumAtoms[tok[2:]]; ok {
				return decConst("10").Mul(decConst(a.factor)), a.dim, true
			}
		}
	}
	return Decimal{}, dims{}, false
}

// parseUnit resolves a UCUM unit expression (products, quotients, integer exponents and
// annotations) to a factor and a dimension vector; unknown atoms make an opaque unit.
func parseUnit(u string) unitInfo {
	if cu, ok := calendarUnits[u]; ok {
		if def, ok := calendarDefinite[cu]; ok {
			u = def
		} else {
			return unitInfo{opaque: "calendar:" + cu}
		}
	}
	if u == "" {
		u = "1"
	}
	if len(u) > 100 {
		return unitInfo{opaque: u}
	}
	// drop annotations {…}
	var clean strings.Builder
	depth := 0
	for i := 0; i < len(u); i++ {
		switch {
		case u[i] == '{':
			depth++
		case u[i] == '}':
			if depth > 0 {
				depth--
			}
		case depth == 0:
			clean.WriteByte(u[i])
		}
	}
	s := clean.String()
	if s == "" {
		s = "1"
	}
	factor := DecimalFromInt(1)
	var dim dims
	sign := 1
	i := 0
	if strings.HasPrefix(s, "/") {
		sign = -1
		i = 1
	}
	for i < len(s) {
		j := i
		bracket := 0
		for j < len(s) {
			c := s[j]
			if c == '[' {
				bracket++
			} else if c == ']' {
				bracket--
			} else if bracket == 0 && (c == '.' || c == '/') {
				break
			}
			j++
		}
		tok := s[i:j]
		// split exponent digits at the end (not inside brackets, not "10*")
		exp := 1
		k := len(tok)
		for k > 0 && tok[k-1] >= '0' && tok[k-1] <= '9' {
			k--
		}
		if k > 0 && k < len(tok) && tok != "10*" && tok[k-1] != ']' || k > 0 && k < len(tok) && tok[k-1] == ']' {
			base := tok[:k]
			neg := false
			if strings.HasSuffix(base, "-") || strings.HasSuffix(base, "+") {
				neg = base[len(base)-1] == '-'
				base = base[:len(base)-1]
			}
			if _, _, ok := lookupAtom(base); ok {
				e := 0
				for _, c := range tok[k:] {
					e = e*10 + int(c-'0')
					if e > 20 {
						return unitInfo{opaque: u}
					}
				}
				exp = e
				if neg {
					exp = -e
				}
				tok = base
			}
		}
		f, d, ok := lookupAtom(tok)
		if !ok {
			if allDigits(tok) && tok != "" {
				f, ok = ParseDecimal(tok)
				d = dims{}
			}
			if !ok {
				return unitInfo{opaque: u}
			}
		}
		e := exp * sign
		for n := 0; n < abs(e); n++ {
			if e > 0 {
				factor = factor.Mul(f)
			} else {
				q, ok := factor.Div(f)
				if !ok {
					return unitInfo{opaque: u}
				}
				factor = q
				// keep full precision for tiny factors
			}
		}
		for n := range dim {
			dim[n] += d[n] * int8(e)
		}
		if j >= len(s) {
			break
		}
		if s[j] == '/' {
			sign = -1
		} else {
			// '.' keeps the current sign only if no '/' seen; UCUM is left-associative
		}
		i = j + 1
	}
	return unitInfo{factor: factor, dim: dim}
}

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}

// canonical converts q to base units; ok is false for calendar years/months and unknown units.
func (q Quantity) canonical() (Decimal, unitInfo) {
	ui := parseUnit(q.Unit)
	if ui.opaque != "" {
		return q.Value, ui
	}
	return q.Value.Mul(ui.factor), ui
}

// compareQuantities returns the ordering of a and b, ok false if the units do not compare.
func compareQuantities(a, b Quantity) (int, bool) {
	if a.Unit == b.Unit || calendarUnits[a.Unit] != "" && calendarUnits[a.Unit] == calendarUnits[b.Unit] {
		return a.Value.Cmp(b.Value), true
	}
	va, ua := a.canonical()
	vb, ub := b.canonical()
	if ua.opaque != "" || ub.opaque != "" || ua.dim != ub.dim {
		return 0, false
	}
	return va.Cmp(vb), true
}

// quantitiesEquivalent compares after conversion to a's unit, at the lower precision.
func quantitiesEquivalent(a, b Quantity) bool {
	if a.Unit == b.Unit || calendarUnits[a.Unit] != "" && calendarUnits[a.Unit] == calendarUnits[b.Unit] {
		return decimalsEquivalent(a.Value, b.Value)
	}
	ua, ub := parseUnit(a.Unit), parseUnit(b.Unit)
	if ua.opaque != "" || ub.opaque != "" || ua.dim != ub.dim {
		return false
	}
	// express b in a's unit
	bv := b.Value.Mul(ub.factor)
	conv, ok := bv.Div(ua.factor)
	if !ok {
		return false
	}
	conv = conv.trimZeros()
	if conv.scale < b.Value.scale {
		conv = conv.rescale(b.Value.scale)
	}
	return decimalsEquivalent(a.Value, conv)
}

// decimalsEquivalent compares at the precision of the less precise operand.
func decimalsEquivalent(a, b Decimal) bool {
	s := min(a.scale, b.scale)
	return a.roundHalfUp(s).Cmp(b.roundHalfUp(s)) == 0
}

// dimNames are the base units of a dimension vector, in its order; unitFromDims formats a vector
// back to a unit for products and quotients.
var dimNames = [...]string{"m", "g", "s", "mol", "K", "A", "cd", "rad"}

func unitFromDims(d dims) string {
	var num, den []string
	for i, e := range d {
		switch {
		case e == 1:
			num = append(num, dimNames[i])
		case e > 1:
			num = append(num, dimNames[i]+itoa(int(e)))
		case e == -1:
			den = append(den, dimNames[i])
		case e < -1:
			den = append(den, dimNames[i]+itoa(int(-e)))
		}
	}
	s := strings.Join(num, ".")
	if s == "" {
		s = "1"
	}
	if len(den) > 0 {
		s += "/" + strings.Join(den, "/")
	}
	return s
}

func itoa(n int) string {
	if n == 0 {
		return "0"
	}
	var b [20]byte
	i := len(b)
	neg := n < 0
	if neg {
		n = -n
	}
	for n > 0 {
		i--
		b[i] = byte('0' + n%10)
		n /= 10
	}
	if neg {
		i--
		b[i] = '-'
	}
	return string(b[i:])
}

// mulQuantities multiplies (or divides) two quantities in base units.
func mulQuantities(a, b Quantity, divide bool) (Quantity, bool) {
	va, ua := a.canonical()
	vb, ub := b.canonical()
	if ua.opaque != "" || ub.opaque != "" {
		if divide && a.Unit == b.Unit {
			v, ok := a.Value.Div(b.Value)
			return Quantity{Value: v, Unit: "1"}, ok
		}
		return Quantity{}, false
	}
	var d dims
	for i := range d {
		if divide {
			d[i] = ua.dim[i] - ub.dim[i]
		} else {
			d[i] = ua.dim[i] + ub.dim[i]
		}
	}
	var v Decimal
	if divide {
		var ok bool
		v, ok = va.Div(vb)
		if !ok {
			return Quantity{}, false
		}
	} else {
		v = va.Mul(vb)
	}
	return Quantity{Value: v, Unit: unitFromDims(d)}, true
}
