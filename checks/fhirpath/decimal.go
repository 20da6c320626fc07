package fhirpath

import (
	"math"
	"math/big"
	"strconv"
	"strings"
)

// Decimal is an exact decimal number: coef × 10^-scale (scale ≥ 0). The scale records the
// precision the value was written with (1.50 has scale 2), which FHIRPath needs for
// equivalence, precision() and the boundary functions.
type Decimal struct {
	coef    *big.Int
	scale   int32
	negZero bool // a zero written with a minus sign (-0.0, from lowBoundary of tiny negatives)
}

const (
	maxDecimalScale  = 64
	maxDecimalDigits = 128
	divisionScale    = 8
)

var (
	bigTen  = big.NewInt(10)
	bigZero = new(big.Int)
)

var pow10Cache = func() []*big.Int {
	p := make([]*big.Int, maxDecimalScale*2+2)
	p[0] = big.NewInt(1)
	for i := 1; i < len(p); i++ {
		p[i] = new(big.Int).Mul(p[i-1], bigTen)
	}
	return p
}()

func pow10(n int32) *big.Int {
	if n >= 0 && int(n) < len(pow10Cache) {
		return pow10Cache[n]
	}
	return new(big.Int).Exp(bigTen, big.NewInt(int64(n)), nil)
}

// DecimalFromInt returns n as a Decimal with scale 0.
func DecimalFromInt(n int64) Decimal { return Decimal{coef: big.NewInt(n)} }

func (d Decimal) c() *big.Int {
	if d.coef == nil {
		return bigZero
	}
	return d.coef
}

// ParseDecimal parses a decimal literal such as "-12.50" or "1e3".
func ParseDecimal(s string) (Decimal, bool) {
	if len(s) == 0 || len(s) > 200 {
		return Decimal{}, false
	}
	exp := 0
	if i := strings.IndexAny(s, "eE"); i >= 0 {
		e, err := strconv.Atoi(s[i+1:])
		if err != nil || e > maxDecimalScale || e < -maxDecimalScale {
			return Decimal{}, false
		}
		exp = e
		s = s[:i]
	}
	neg := false
	switch s[0] {
	case '-':
		neg = true
		s = s[1:]
	case '+':
		s = s[1:]
	}
	intPart, frac := s, ""
	if i := strings.IndexByte(s, '.'); i >= 0 {
		intPart, frac = s[:i], s[i+1:]
		if frac == "" {
			return Decimal{}, false
		}
	}
	if intPart == "" || !allDigits(intPart) || !allDigits(frac) {
		return Decimal{}, false
	}
	digits := intPart + frac
	coef, ok := new(big.Int).SetString(digits, 10)
	if !ok {
		return Decimal{}, false
	}
	if neg {
		coef.Neg(coef)
	}
	scale := len(frac) - exp
	if scale < 0 {
		coef.Mul(coef, pow10(int32(-scale)))
		scale = 0
	}
	if scale > maxDecimalScale*2 {
		return Decimal{}, false
	}
	return Decimal{coef: coef, scale: int32(scale)}, true
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// String writes the decimal with exactly its scale digits after the point.
func (d Decimal) String() string {
	c := d.c()
	s := new(big.Int).Abs(c).String()
	neg := c.Sign() < 0
	if d.scale > 0 {
		sc := int(d.scale)
		if len(s) <= sc {
			s = strings.Repeat("0", sc-len(s)+1) + s
		}
		s = s[:len(s)-sc] + "." + s[len(s)-sc:]
	}
	if neg || d.negZero && c.Sign() == 0 {
		return "-" + s
	}
	return s
}

// Scale is the number of digits after the decimal point.
func (d Decimal) Scale() int { return int(d.scale) }

// Sign returns -1, 0 or 1.
func (d Decimal) Sign() int { return d.c().Sign() }

func (d Decimal) rescale(scale int32) Decimal {
	if scale == d.scale {
		return d
	}
	if scale > d.scale {
		return Decimal{coef: new(big.Int).Mul(d.c(), pow10(scale-d.scale)), scale: scale}
	}
	return d.roundHalfUp(scale)
}

// Cmp compares values, ignoring precision.
func (d Decimal) Cmp(o Decimal) int {
	s := max(d.scale, o.scale)
	return d.rescale(s).c().Cmp(o.rescale(s).c())
}

func (d Decimal) Add(o Decimal) Decimal {
	s := max(d.scale, o.scale)
	return Decimal{coef: new(big.Int).Add(d.rescale(s).c(), o.rescale(s).c()), scale: s}
}

func (d Decimal) Sub(o Decimal) Decimal {
	s := max(d.scale, o.scale)
	return Decimal{coef: new(big.Int).Sub(d.rescale(s).c(), o.rescale(s).c()), scale: s}
}

func (d Decimal) Mul(o Decimal) Decimal {
	r := Decimal{coef: new(big.Int).Mul(d.c(), o.c()), scale: d.scale + o.scale}
	if r.scale > maxDecimalScale {
		r = r.roundHalfUp(maxDecimalScale)
	}
	return r
}

func (d Decimal) Neg() Decimal { return Decimal{coef: new(big.Int).Neg(d.c()), scale: d.scale} }

func (d Decimal) Abs() Decimal { return Decimal{coef: new(big.Int).Abs(d.c()), scale: d.scale} }

// Div divides with divisionScale digits and drops trailing zeros; ok is false for /0.
func (d Decimal) Div(o Decimal) (Decimal, bool) {
	if o.Sign() == 0 {
		return Decimal{}, false
	}
	// d/o = (dc/10^ds) / (oc/10^os); compute with scale divisionScale+1 then round.
	target := int32(divisionScale + 1)
	num := new(big.Int).Mul(d.c(), pow10(target+o.scale))
	den := new(big.Int).Mul(o.c(), pow10(d.scale))
	q := new(big.Int).Quo(num, den)
	r := Decimal{coef: q, scale: target}.roundHalfUp(divisionScale)
	return r.trimZeros(), true
}

// DivInt is truncated division (the div operator).
func (d Decimal) DivInt(o Decimal) (Decimal, bool) {
	if o.Sign() == 0 {
		return Decimal{}, false
	}
	s := max(d.scale, o.scale)
	return Decimal{coef: new(big.Int).Quo(d.rescale(s).c(), o.rescale(s).c())}, true
}

// Mod is the remainder of truncated division.
func (d Decimal) Mod(o Decimal) (Decimal, bool) {
	if o.Sign() == 0 {
		return Decimal{}, false
	}
	s := max(d.scale, o.scale)
	return Decimal{coef: new(big.Int).Rem(d.rescale(s).c(), o.rescale(s).c()), scale: s}, true
}

func (d Decimal) trimZeros() Decimal {
	c := new(big.Int).Set(d.c())
	s := d.scale
	m := new(big.Int)
	for s > 0 {
		q, r := new(big.Int).QuoRem(c, bigTen, m)
		if r.Sign() != 0 {
			break
		}
		c = q
		s--
	}
	return Decimal{coef: c, scale: s}
}

// roundHalfUp rounds to scale digits, halves away from zero.
func (d Decimal) roundHalfUp(scale int32) Decimal {
	if scale < 0 {
		scale = 0
	}
	if scale >= d.scale {
		return d.rescale(scale)
	}
	div := pow10(d.scale - scale)
	q, r := new(big.Int).QuoRem(d.c(), div, new(big.Int))
	r2 := new(big.Int).Abs(r)
	r2.Lsh(r2, 1)
	if r2.Cmp(div) >= 0 {
		if d.c().Sign() < 0 {
			q.Sub(q, big.NewInt(1))
		} else {
			q.Add(q, big.NewInt(1))
		}
	}
	return Decimal{coef: q, scale: scale}
}

// Round rounds to n digits after the point.
func (d Decimal) Round(n int32) Decimal { return d.roundHalfUp(n) }

// Truncate drops the fraction.
func (d Decimal) Truncate() Decimal {
	return Decimal{coef: new(big.Int).Quo(d.c(), pow10(d.scale))}
}

// Floor is the greatest integer ≤ d, at scale digits.
func (d Decimal) floorAt(scale int32) Decimal {
	if scale >= d.scale {
		return d.rescale(scale)
	}
	div := pow10(d.scale - scale)
	q, m := new(big.Int).DivMod(d.c(), div, new(big.Int)) // Euclidean: floor for positive divisor
	_ = m
	return Decimal{coef: q, scale: scale}
}

func (d Decimal) ceilAt(scale int32) Decimal {
	if scale >= d.scale {
		return d.rescale(scale)
	}
	n := d.Neg().floorAt(scale)
	return n.Neg()
}

func (d Decimal) IsInteger() bool {
	if d.scale == 0 {
		return true
	}
	return new(big.Int).Rem(d.c(), pow10(d.scale)).Sign() == 0
}

// Int64 returns the integer part if it fits.
func (d Decimal) Int64() (int64, bool) {
	t := d.Truncate().c()
	if !t.IsInt64() {
		return 0, false
	}
	return t.Int64(), true
}

func (d Decimal) Float64() float64 {
	f, _ := new(big.Rat).SetFrac(d.c(), pow10(d.scale)).Float64()
	return f
}

// decimalFromFloat converts a float result of a math function, keeping up to 8 decimals and
// dropping trailing zeros.
func decimalFromFloat(f float64) (Decimal, bool) {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return Decimal{}, false
	}
	d, ok := ParseDecimal(strconv.FormatFloat(f, 'f', -1, 64))
	if !ok {
		return Decimal{}, false
	}
	if d.scale > divisionScale {
		d = d.roundHalfUp(divisionScale)
	}
	return d.trimZeros(), true
}

// tooBig reports whether d's coefficient is over the overflow limit (about maxDecimalDigits
// digits, taken as 4 bits a digit).
func (d Decimal) tooBig() bool {
	return d.c().BitLen() > maxDecimalDigits*4
}
