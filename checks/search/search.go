// Package search decides whether each resource a FHIR server returned for a search truly meets
// the criteria sent, per search parameter type (date, token, reference, string, quantity, number,
// uri), evaluating the SearchParameter's expression on the resource. It is lenient where servers
// may legitimately differ (time zones of bare dates, case of codes, word starts in names) and
// strict where they may not: a resource is reported only when no reading of the criterion matches.
package search

import (
	"context"
	"encoding/json"
	"fmt"
	"math/big"
	"net/url"
	"sort"
	"strings"
	"time"
	"unicode"

	"golang.org/x/text/runes"
	"golang.org/x/text/transform"
	"golang.org/x/text/unicode/norm"

	"github.com/pacheck/pacheck/checks/issue"
)

// Rule is the issue rule of a resource that does not match the search.
const Rule = "search-semantics"

// RuleNotChecked marks criteria the checker cannot evaluate (information, never an error).
const RuleNotChecked = "search-semantics.not-checked"

// Param is the part of a SearchParameter the checker needs.
type Param struct {
	Code       string   // e.g. "date"
	Type       string   // date, token, reference, string, quantity, number, uri, composite, special
	Expression string   // FHIRPath expression, e.g. "Observation.effective"
	Targets    []string // reference target types
	URL        string   // canonical, for messages
}

// ParamFromSearchParameter reads a SearchParameter resource (decoded JSON).
func ParamFromSearchParameter(sp map[string]any) Param {
	p := Param{}
	p.Code, _ = sp["code"].(string)
	p.Type, _ = sp["type"].(string)
	p.Expression, _ = sp["expression"].(string)
	p.URL, _ = sp["url"].(string)
	if ts, ok := sp["target"].([]any); ok {
		for _, t := range ts {
			if s, ok := t.(string); ok {
				p.Targets = append(p.Targets, s)
			}
		}
	}
	return p
}

// ParamFromJSON decodes a SearchParameter resource.
func ParamFromJSON(raw []byte) (Param, error) {
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		return Param{}, fmt.Errorf("SearchParameter: %w", err)
	}
	if rt, _ := m["resourceType"].(string); rt != "SearchParameter" {
		return Param{}, fmt.Errorf("not a SearchParameter (resourceType %q)", rt)
	}
	return ParamFromSearchParameter(m), nil
}

// Criterion is one query parameter: param[:modifier]=v1,v2 (the values are OR-ed).
type Criterion struct {
	Param    Param
	Modifier string
	Values   []string
}

// String renders the criterion as it appears in a query.
func (c Criterion) String() string {
	k := c.Param.Code
	if c.Modifier != "" {
		k += ":" + c.Modifier
	}
	return k + "=" + strings.Join(c.Values, ",")
}

// NewCriterion parses a query key ("code:text") and raw value ("a,b\,c") for param p; the values
// keep their escapes (query form).
func NewCriterion(p Param, key, raw string) Criterion {
	c := Criterion{Param: p}
	if _, mod, ok := strings.Cut(key, ":"); ok {
		c.Modifier = mod
	}
	c.Values = splitKeep(raw, ',')
	return c
}

// Query renders criteria as url.Values. Values are kept in query form (escaped), so they are
// joined as they are.
func Query(cs ...Criterion) url.Values {
	q := url.Values{}
	for _, c := range cs {
		k := c.Param.Code
		if c.Modifier != "" {
			k += ":" + c.Modifier
		}
		q.Add(k, strings.Join(c.Values, ","))
	}
	return q
}

// splitKeep splits at unescaped sep and keeps the escapes in the parts.
func splitKeep(s string, sep byte) []string {
	var out []string
	start := 0
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '\\':
			i++
		case sep:
			out = append(out, s[start:i])
			start = i + 1
		}
	}
	return append(out, s[start:])
}

// splitEscaped splits at sep, honouring backslash escapes (\, \| \$ \\).
func splitEscaped(s string, sep rune) []string {
	var out []string
	var b strings.Builder
	esc := false
	for _, r := range s {
		switch {
		case esc:
			b.WriteRune(r)
			esc = false
		case r == '\\':
			esc = true
		case r == sep:
			out = append(out, b.String())
			b.Reset()
		default:
			b.WriteRune(r)
		}
	}
	return append(out, b.String())
}

// Checker checks search results. The zero value uses FHIRPathEvaluator and the current time.
type Checker struct {
	Eval Evaluator
	Now  time.Time // for "ap"; zero: time.Now()
}

// Result of matching one resource against one criterion.
type Result struct {
	Match      bool
	NotChecked string   // why the criterion could not be evaluated ("" when it was)
	Had        []string // what the resource had at the expression (server data: diagnostics only)
}

// Match tells whether res meets criterion c.
func (ch *Checker) Match(ctx context.Context, res map[string]any, c Criterion) Result {
	ev := ch.Eval
	if ev == nil {
		ev = FHIRPathEvaluator{}
	}
	if c.Param.Expression == "" {
		if c.Param.Code == "_id" {
			c.Param.Expression = "Resource.id"
			c.Param.Type = "token"
		} else {
			return Result{Match: true, NotChecked: "the SearchParameter has no expression"}
		}
	}
	vals, err := ev.Eval(ctx, c.Param.Expression, res)
	if err != nil {
		return Result{Match: true, NotChecked: err.Error()}
	}
	vals = extensionValues(vals)
	had := describeValues(vals)
	if c.Modifier == "missing" {
		want := len(c.Values) > 0 && c.Values[0] == "true"
		return Result{Match: (len(realValues(vals)) == 0) == want, Had: had}
	}
	var matchOne func(v Value, sv string) (bool, string)
	switch c.Param.Type {
	case "date":
		now := ch.Now
		if now.IsZero() {
			now = time.Now()
		}
		matchOne = func(v Value, sv string) (bool, string) { return matchDate(v, sv, now) }
	case "token":
		if c.Modifier != "" && c.Modifier != "not" {
			return Result{Match: true, NotChecked: "modifier :" + c.Modifier + " is not checked", Had: had}
		}
		matchOne = matchToken
	case "reference":
		mod := c.Modifier
		if mod == "identifier" {
			matchOne = func(v Value, sv string) (bool, string) {
				m, _ := v.V.(map[string]any)
				id, _ := m["identifier"].(map[string]any)
				return matchToken(Value{Type: "Identifier", V: id}, sv)
			}
		} else {
			if mod != "" && !isTypeName(mod) {
				return Result{Match: true, NotChecked: "modifier :" + mod + " is not checked", Had: had}
			}
			matchOne = func(v Value, sv string) (bool, string) { return matchReference(v, sv, mod, c.Param.Targets) }
		}
	case "string":
		switch c.Modifier {
		case "", "exact", "contains":
		default:
			return Result{Match: true, NotChecked: "modifier :" + c.Modifier + " is not checked", Had: had}
		}
		matchOne = func(v Value, sv string) (bool, string) { return matchString(v, sv, c.Modifier) }
	case "quantity", "number":
		matchOne = matchQuantity
	case "uri":
		matchOne = func(v Value, sv string) (bool, string) {
			s, _ := v.V.(string)
			switch c.Modifier {
			case "below":
				return strings.HasPrefix(s, sv), ""
			case "above":
				return strings.HasPrefix(sv, s), ""
			}
			return s == sv, ""
		}
	default:
		return Result{Match: true, NotChecked: "parameter type " + c.Param.Type + " is not checked", Had: had}
	}
	var why []string
	for _, sv := range c.Values {
		for _, v := range vals {
			ok, reason := matchOne(v, sv)
			if reason != "" {
				why = append(why, reason)
			}
			if ok {
				if c.Modifier == "not" {
					return Result{Match: false, Had: had}
				}
				return Result{Match: true, Had: had}
			}
		}
	}
	if c.Modifier == "not" {
		return Result{Match: true, Had: had}
	}
	if len(why) > 0 && len(realValues(vals)) > 0 && allSame(why) && strings.HasPrefix(why[0], "unsupported:") {
		return Result{Match: true, NotChecked: strings.TrimPrefix(why[0], "unsupported:"), Had: had}
	}
	return Result{Match: false, Had: had}
}

func allSame(xs []string) bool {
	for _, x := range xs {
		if x != xs[0] {
			return false
		}
	}
	return true
}

// realValues drops values that are only a data-absent-reason (or other extension) with no value.
func realValues(vs []Value) []Value {
	var out []Value
	for _, v := range vs {
		if v.V != nil {
			out = append(out, v)
		}
	}
	return out
}

// Check matches every resource of the given type against every criterion and returns one error
// issue per resource and criterion that does not match, and information issues for criteria
// that could not be evaluated. Resources of other types (includes) are ignored.
func (ch *Checker) Check(ctx context.Context, resourceType string, resources []map[string]any, criteria []Criterion) issue.List {
	var out issue.List
	notChecked := map[string]bool{}
	for i, res := range resources {
		rt, _ := res["resourceType"].(string)
		if resourceType != "" && rt != resourceType {
			continue
		}
		id, _ := res["id"].(string)
		for _, c := range criteria {
			r := ch.Match(ctx, res, c)
			if r.NotChecked != "" {
				key := c.String() + r.NotChecked
				if !notChecked[key] {
					notChecked[key] = true
					out = append(out, issue.Issue{Severity: issue.Information, Rule: RuleNotChecked, Path: c.Param.Expression,
						Message: fmt.Sprintf("%s %s not checked: %s", rt, paramLabel(c), r.NotChecked)})
				}
				continue
			}
			if r.Match {
				continue
			}
			had := "nothing"
			if len(r.Had) > 0 {
				had = strings.Join(r.Had, "; ")
			}
			exp, act := mismatchData(c, r.Had)
			out = append(out, issue.Issue{Severity: issue.Error, Rule: Rule,
				Path:        fmt.Sprintf("Bundle.entry[%d].resource(%s/%s)", i, rt, id),
				Message:     mismatchMessage(rt, id, c, r.Had),
				Profile:     c.Param.URL,
				Diagnostics: fmt.Sprintf("%s/%s %s: %s", rt, id, c.Param.Expression, had),
				Expected:    exp, Actual: act})
		}
	}
	return out
}

func paramLabel(c Criterion) string {
	if c.Modifier != "" {
		return c.Param.Code + ":" + c.Modifier
	}
	return c.Param.Code
}

// mismatchMessage names the parameter, the value searched and what the resource had. String
// parameters search names and addresses, so their values stay out of the message (they are in
// Diagnostics); dates, codes and references are search keys and are shown.
func mismatchMessage(rt, id string, c Criterion, had []string) string {
	if c.Param.Type == "string" {
		return fmt.Sprintf("%s/%s was returned for %s but none of its %d value(s) at %s matches the %d searched value(s) (values in diagnostics)",
			rt, id, paramLabel(c), len(had), c.Param.Expression, len(c.Values))
	}
	return fmt.Sprintf("%s/%s was returned for %s=%s but does not match it: %s has %s",
		rt, id, paramLabel(c), strings.Join(c.Values, ","), c.Param.Expression, summarize(had))
}

// mismatchData is a mismatch's Expected and Actual (issue.Issue). Only codes are shown: the
// values of a token parameter other than identifier; for every other parameter (names, dates
// such as a birth date, identifiers, references to a patient) only the parameter and counts.
func mismatchData(c Criterion, had []string) (expected, actual string) {
	if c.Param.Type == "token" && c.Param.Code != "identifier" {
		return paramLabel(c) + "=" + strings.Join(c.Values, ","), summarize(had)
	}
	return fmt.Sprintf("%s matching one of %d searched value(s)", paramLabel(c), len(c.Values)),
		fmt.Sprintf("%d value(s) at %s, none matching", len(had), c.Param.Expression)
}

// summarize describes values by kind and count, plus the values themselves when they are codes,
// dates or references (search keys, not free text); free text stays in Diagnostics.
func summarize(had []string) string {
	if len(had) == 0 {
		return "no value"
	}
	if len(had) > 5 {
		return fmt.Sprintf("%d values, none matching (first: %s)", len(had), strings.Join(had[:3], "; "))
	}
	return strings.Join(had, "; ")
}

func describeValues(vs []Value) []string {
	var out []string
	for _, v := range vs {
		out = append(out, describe(v))
	}
	return out
}

func describe(v Value) string {
	if v.V == nil {
		if v.Ext != nil {
			return "only an extension (no value)"
		}
		return "null"
	}
	switch x := v.V.(type) {
	case string:
		return x
	case bool:
		return fmt.Sprint(x)
	case json.Number:
		return x.String()
	case map[string]any:
		typ := v.Type
		if typ == "" {
			typ = inferType(x)
		}
		switch typ {
		case "Period":
			s, _ := x["start"].(string)
			e, _ := x["end"].(string)
			return fmt.Sprintf("Period %s..%s", s, e)
		case "Reference":
			r, _ := x["reference"].(string)
			return "Reference " + r
		case "CodeableConcept":
			var cs []string
			codings, _ := x["coding"].([]any)
			for _, c := range codings {
				cm, _ := c.(map[string]any)
				cs = append(cs, codingString(cm))
			}
			if len(cs) == 0 {
				t, _ := x["text"].(string)
				return "CodeableConcept text only (" + t + ")"
			}
			return "CodeableConcept " + strings.Join(cs, ",")
		case "Coding":
			return "Coding " + codingString(x)
		case "Identifier":
			s, _ := x["system"].(string)
			val, _ := x["value"].(string)
			return "Identifier " + s + "|" + val
		}
		b, _ := json.Marshal(x)
		if len(b) > 200 {
			b = append(b[:200], "..."...)
		}
		return typ + " " + string(b)
	}
	return fmt.Sprint(v.V)
}

func codingString(c map[string]any) string {
	s, _ := c["system"].(string)
	code, _ := c["code"].(string)
	return s + "|" + code
}

// ---- date ----

func matchDate(v Value, sv string, now time.Time) (bool, string) {
	prefix, rest := splitPrefix(sv)
	sr, ok := parseDateRange(rest)
	if !ok {
		return false, "unsupported:search value " + sv + " is not a date"
	}
	trs, why := targetRanges(v)
	if why != "" {
		return false, why
	}
	for _, tr := range trs {
		if dateMatch(prefix, sr, tr, now) {
			return true, ""
		}
	}
	return false, ""
}

// ---- token ----

func cutUnescaped(s string, sep rune) (string, string, bool) {
	parts := splitEscaped(s, sep)
	if len(parts) == 1 {
		return parts[0], "", false
	}
	return parts[0], strings.Join(parts[1:], string(sep)), true
}

func matchToken(v Value, sv string) (bool, string) {
	sys, code, hasBar := cutUnescaped(sv, '|')
	if !hasBar {
		code, sys = sys, ""
	}
	eqCode := func(a string) bool { return code == "" || strings.EqualFold(a, code) }
	eqSys := func(a string) bool {
		switch {
		case !hasBar:
			return true
		case sys == "": // |code: no system
			return a == ""
		default:
			return a == sys
		}
	}
	coding := func(c map[string]any) bool {
		s, _ := c["system"].(string)
		cd, _ := c["code"].(string)
		return eqSys(s) && (cd != "" || code == "") && eqCode(cd)
	}
	switch x := v.V.(type) {
	case string: // code, id, uri, string: no system
		if hasBar && sys != "" {
			return false, ""
		}
		return code != "" && strings.EqualFold(x, code), ""
	case bool:
		return !hasBar && strings.EqualFold(fmt.Sprint(x), code), ""
	case map[string]any:
		typ := v.Type
		if typ == "" {
			typ = inferType(x)
		}
		switch typ {
		case "CodeableConcept":
			cs, _ := x["coding"].([]any)
			for _, c := range cs {
				if cm, ok := c.(map[string]any); ok && coding(cm) {
					return true, ""
				}
			}
			return false, ""
		case "Coding":
			return coding(x), ""
		case "Identifier", "ContactPoint":
			s, _ := x["system"].(string)
			val, _ := x["value"].(string)
			return eqSys(s) && (val != "" || code == "") && (code == "" || val == code), ""
		}
		return false, "unsupported:a " + orUnknown(typ) + " value cannot be matched with a token"
	case nil:
		return false, ""
	}
	return false, "unsupported:value cannot be matched with a token"
}

// ---- reference ----

// splitRef returns the type and id of "Type/id", "Type/id/_history/v" or an absolute URL ending so.
func splitRef(ref string) (string, string) {
	ref = strings.TrimSpace(ref)
	if i := strings.Index(ref, "/_history/"); i >= 0 {
		ref = ref[:i]
	}
	parts := strings.Split(strings.TrimRight(ref, "/"), "/")
	if len(parts) >= 2 && isTypeName(parts[len(parts)-2]) {
		return parts[len(parts)-2], parts[len(parts)-1]
	}
	if len(parts) == 1 {
		return "", parts[0]
	}
	return "", ""
}

func matchReference(v Value, sv, typeMod string, targets []string) (bool, string) {
	var ref string
	switch x := v.V.(type) {
	case map[string]any:
		ref, _ = x["reference"].(string)
	case string: // canonical / uri
		ref = x
	}
	if ref == "" {
		return false, ""
	}
	if _, isCanonical := v.V.(string); isCanonical {
		// canonical: url or url|version, matched on the URL (and version when searched)
		ru, rv, _ := strings.Cut(ref, "|")
		su, sv2, hasV := strings.Cut(sv, "|")
		if ru == su && (!hasV || sv2 == rv) {
			return true, ""
		}
	}
	if strings.HasPrefix(ref, "#") {
		return false, ""
	}
	sv = strings.Join(splitEscaped(sv, 0), "")
	rt, rid := splitRef(ref)
	st, sid := splitRef(sv)
	if sid == "" {
		return false, ""
	}
	if st == "" {
		st = typeMod
		if st == "" && len(targets) == 1 {
			st = targets[0]
		}
	}
	if rid != sid {
		// absolute URLs that are not Type/id shaped: compare whole
		return strings.TrimRight(ref, "/") == strings.TrimRight(sv, "/"), ""
	}
	return st == "" || rt == "" || st == rt, ""
}

// ---- string ----

var foldChain = transform.Chain(norm.NFD, runes.Remove(runes.In(unicode.Mn)), norm.NFC)

// Fold lowercases s and removes accents: "Chalmérs" -> "chalmers".
func Fold(s string) string {
	out, _, err := transform.String(foldChain, s)
	if err != nil {
		out = s
	}
	return strings.ToLower(out)
}

func stringParts(v Value) []string {
	switch x := v.V.(type) {
	case string:
		return []string{x}
	case map[string]any:
		var out []string
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			switch k {
			case "family", "text", "city", "district", "state", "postalCode", "country", "value", "display":
				if s, ok := x[k].(string); ok {
					out = append(out, s)
				}
			case "given", "prefix", "suffix", "line":
				arr, _ := x[k].([]any)
				for _, e := range arr {
					if s, ok := e.(string); ok {
						out = append(out, s)
					}
				}
			}
		}
		return out
	}
	return nil
}

func matchString(v Value, sv, mod string) (bool, string) {
	sv = strings.Join(splitEscaped(sv, 0), "")
	parts := stringParts(v)
	for _, p := range parts {
		switch mod {
		case "exact":
			if p == sv {
				return true, ""
			}
		case "contains":
			if strings.Contains(Fold(p), Fold(sv)) {
				return true, ""
			}
		default:
			fp, fs := Fold(p), Fold(sv)
			if strings.HasPrefix(fp, fs) {
				return true, ""
			}
			// lenient: a word start inside the part (servers index words of names and texts)
			for _, w := range strings.FieldsFunc(fp, func(r rune) bool { return r == ' ' || r == '-' || r == ',' }) {
				if strings.HasPrefix(w, fs) {
					return true, ""
				}
			}
		}
	}
	return false, ""
}

// ---- quantity / number ----

func matchQuantity(v Value, sv string) (bool, string) {
	prefix, rest := splitPrefix(sv)
	parts := splitEscaped(rest, '|')
	num, ok := new(big.Rat).SetString(parts[0])
	if !ok {
		return false, "unsupported:search value " + sv + " is not a number"
	}
	// precision: half a unit of the last given digit
	half := big.NewRat(1, 2)
	if i := strings.IndexByte(parts[0], '.'); i >= 0 {
		d := len(parts[0]) - i - 1
		den := new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(d)), nil)
		half = new(big.Rat).SetFrac(big.NewInt(1), new(big.Int).Mul(den, big.NewInt(2)))
	}
	var tv any
	var tsys, tcode, tunit string
	switch x := v.V.(type) {
	case map[string]any:
		tv = x["value"]
		tsys, _ = x["system"].(string)
		tcode, _ = x["code"].(string)
		tunit, _ = x["unit"].(string)
	default:
		tv = x
	}
	tr, ok := toRat(tv)
	if !ok {
		return false, ""
	}
	if len(parts) == 3 {
		sys, code := parts[1], parts[2]
		if sys != "" && sys != tsys {
			return false, ""
		}
		if code != "" && code != tcode && code != tunit {
			return false, ""
		}
	} else if len(parts) == 2 && parts[1] != "" && parts[1] != tcode && parts[1] != tunit {
		return false, ""
	}
	lo := new(big.Rat).Sub(num, half)
	hi := new(big.Rat).Add(num, half)
	switch prefix {
	case "", "eq":
		return tr.Cmp(lo) >= 0 && tr.Cmp(hi) < 0, ""
	case "ne":
		return tr.Cmp(lo) < 0 || tr.Cmp(hi) >= 0, ""
	case "gt", "sa":
		return tr.Cmp(num) > 0, ""
	case "lt", "eb":
		return tr.Cmp(num) < 0, ""
	case "ge":
		return tr.Cmp(lo) >= 0, ""
	case "le":
		return tr.Cmp(hi) < 0, ""
	case "ap":
		w := new(big.Rat).Abs(new(big.Rat).Mul(num, big.NewRat(1, 10)))
		return tr.Cmp(new(big.Rat).Sub(lo, w)) >= 0 && tr.Cmp(new(big.Rat).Add(hi, w)) < 0, ""
	}
	return true, ""
}

func toRat(x any) (*big.Rat, bool) {
	switch n := x.(type) {
	case json.Number:
		return new(big.Rat).SetString(n.String())
	case float64:
		return new(big.Rat).SetFloat64(n), true
	case int:
		return big.NewRat(int64(n), 1), true
	case string:
		return new(big.Rat).SetString(n)
	}
	return nil, false
}

func isNumber(x any) bool {
	switch x.(type) {
	case json.Number, float64, int, int64:
		return true
	}
	return false
}
