package validate

import (
	"context"
	"fmt"
	"slices"
)

// Membership is the binding rule's local verdict on one coded value (no terminology server).
type Membership int

const (
	// MemberOut: every coding is decidably outside the value set.
	MemberOut Membership = iota
	// MemberIn: a coding is in the value set.
	MemberIn
	// MemberUndecided: no coding is in, and some cannot be decided here (a large external code
	// system such as SNOMED CT, or a value set that is not loaded).
	MemberUndecided
)

// BoundValue is one coded value of a resource at an element a profile binds to a value set.
type BoundValue struct {
	Element  string   // the element's id in the profile (Condition.code, Observation.value[x])
	Strength string   // required, extensible, preferred or example
	ValueSet string   // the bound value set's canonical
	Codings  []string // system|code of each coding with a code (a bare code: its code)
	Member   Membership
	Why      string // MemberUndecided: why the value set could not decide
}

// BoundValues lists the coded values (CodeableConcept, Coding, code) a resource holds at the
// elements of profile (canonical, in package context ig) bound with one of strengths, each judged
// with the value-set expansion and membership the binding rule uses (terminology.go): a
// CodeableConcept is in when one coding is, out when every coding is decidably out. The values are
// those the validator's walk judges against the profile's own elements: a value matched to a
// slice is judged by the slice's binding, not the sliced element's (as Validate does), and
// datatype definitions and other profiles the walk steps into are left out. Values without a
// code (text only) are left out: there is no code to judge.
func (v *Validator) BoundValues(ctx context.Context, res map[string]any, profile, ig string, strengths ...string) ([]BoundValue, error) {
	sc, err := v.scope(ig)
	if err != nil {
		return nil, err
	}
	p, err := sc.profile(profile)
	if err != nil {
		return nil, fmt.Errorf("profile %s in %s: %w", profile, ig, err)
	}
	rt, _ := res["resourceType"].(string)
	if p == nil || rt == "" || p.Type != rt {
		return nil, fmt.Errorf("profile %s in %s does not constrain %q", profile, ig, rt)
	}
	w := getWalker(v, sc, ctx)
	defer putWalker(w)
	w.collect = &boundCollector{prof: p, strengths: strengths}
	var r Result
	w.validateResource(res, rt, []string{profile}, &r, true)
	return w.collect.out, nil
}

// boundCollector gathers BoundValues during a walk.
type boundCollector struct {
	prof      *Profile
	strengths []string
	out       []BoundValue
}

// collectBound records a value of element c for BoundValues: an element of the collected profile
// with a binding of a collected strength, outside slice probing.
func (w *walker) collectBound(c *Elem, typ string, val any) {
	b := w.collect
	if b == nil || w.quiet > 0 || c.Binding == nil || c.profile != b.prof || !slices.Contains(b.strengths, c.Binding.Strength) {
		return
	}
	if bv, ok := boundValue(w.tsc, c, typ, val); ok {
		b.out = append(b.out, bv)
	}
}

// boundValue judges one value of a bound element; ok is false when it is not a coded value with
// a code.
func boundValue(tsc *scope, c *Elem, typ string, val any) (BoundValue, bool) {
	bv := BoundValue{Element: c.ID, Strength: c.Binding.Strength, ValueSet: c.Binding.ValueSet}
	e := tsc.expand(c.Binding.ValueSet)
	var pairs [][2]string
	switch typ {
	case "code":
		s, ok := val.(string)
		if !ok || s == "" {
			return bv, false
		}
		pairs = append(pairs, [2]string{"", s})
	case "Coding":
		m, _ := val.(map[string]any)
		if code, _ := m["code"].(string); code != "" {
			sys, _ := m["system"].(string)
			pairs = append(pairs, [2]string{sys, code})
		}
	case "CodeableConcept":
		m, _ := val.(map[string]any)
		for _, x := range listOf(m["coding"]) {
			cm, _ := x.(map[string]any)
			if code, _ := cm["code"].(string); code != "" {
				sys, _ := cm["system"].(string)
				pairs = append(pairs, [2]string{sys, code})
			}
		}
	default:
		return bv, false
	}
	if len(pairs) == 0 {
		return bv, false
	}
	bv.Member = MemberOut
	for _, p := range pairs {
		if p[0] == "" {
			bv.Codings = append(bv.Codings, p[1])
		} else {
			bv.Codings = append(bv.Codings, p[0]+"|"+p[1])
		}
		switch e.contains(p[0], p[1]) {
		case memberYes:
			bv.Member, bv.Why = MemberIn, ""
		case memberUnknown:
			if bv.Member == MemberOut {
				bv.Member, bv.Why = MemberUndecided, e.why(p[0])
			}
		}
	}
	return bv, true
}

func listOf(v any) []any {
	switch x := v.(type) {
	case []any:
		return x
	case nil:
		return nil
	}
	return []any{v}
}
