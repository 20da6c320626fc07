package snapshot

import (
	"bytes"
	"encoding/json"
	"sort"
	"strings"
)

// The property order of the FHIR R4 specification for a StructureDefinition and an
// ElementDefinition, so the generated JSON reads like a published one (encoding/json would sort
// the keys alphabetically). Properties not listed follow in alphabetical order; "_name"
// companions follow their property.
var (
	sdOrder = rankOf("resourceType id meta implicitRules language text contained extension modifierExtension url " +
		"identifier version name title status experimental date publisher contact description useContext jurisdiction " +
		"purpose copyright keyword fhirVersion mapping kind abstract context contextInvariant type baseDefinition " +
		"derivation snapshot differential")
	elemOrder = rankOf("id extension modifierExtension path representation sliceName sliceIsConstraining label code " +
		"slicing short definition comment requirements alias min max base contentReference type defaultValue " +
		"meaningWhenMissing orderMeaning fixed pattern example minValue maxValue maxLength condition constraint " +
		"mustSupport isModifier isModifierReason isSummary binding mapping")
	// choicePrefixes are the [x] properties of ElementDefinition (fixedUri ranks as fixed).
	choicePrefixes = []string{"defaultValue", "fixed", "pattern", "minValue", "maxValue"}
)

func rankOf(names string) map[string]int {
	m := map[string]int{}
	for i, n := range strings.Fields(names) {
		m[n] = i + 1
	}
	return m
}

// marshalSD writes a StructureDefinition with its properties and its elements' in spec order.
func marshalSD(sd map[string]any) ([]byte, error) {
	var b bytes.Buffer
	if err := writeOrdered(&b, sd, sdOrder, false); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

func writeOrdered(b *bytes.Buffer, m map[string]any, order map[string]int, element bool) error {
	rank := func(k string) int {
		base := strings.TrimPrefix(k, "_")
		r, ok := order[base]
		if !ok && element {
			for _, p := range choicePrefixes {
				if strings.HasPrefix(base, p) && len(base) > len(p) && base[len(p)] >= 'A' && base[len(p)] <= 'Z' {
					r, ok = order[p], true
				}
			}
		}
		if !ok {
			r = len(order) + 1
		}
		return 2 * r
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		ri, rj := rank(keys[i]), rank(keys[j])
		if ri != rj {
			return ri < rj
		}
		// "x" before "_x", then by name
		ui, uj := strings.HasPrefix(keys[i], "_"), strings.HasPrefix(keys[j], "_")
		if ui != uj {
			return !ui
		}
		return keys[i] < keys[j]
	})
	b.WriteByte('{')
	for i, k := range keys {
		if i > 0 {
			b.WriteByte(',')
		}
		if err := writeValue(b, k); err != nil {
			return err
		}
		b.WriteByte(':')
		v := m[k]
		var err error
		switch {
		case !element && (k == "snapshot" || k == "differential"):
			err = writeElements(b, v)
		default:
			err = writeValue(b, v)
		}
		if err != nil {
			return err
		}
	}
	b.WriteByte('}')
	return nil
}

// writeElements writes {"element": [...]} with each element in ElementDefinition order.
func writeElements(b *bytes.Buffer, v any) error {
	m, ok := v.(map[string]any)
	if !ok {
		return writeValue(b, v)
	}
	els, ok := m["element"].([]any)
	if !ok || len(m) != 1 {
		return writeValue(b, v)
	}
	b.WriteString(`{"element":[`)
	for i, e := range els {
		if i > 0 {
			b.WriteByte(',')
		}
		em, ok := e.(map[string]any)
		var err error
		if ok {
			err = writeOrdered(b, em, elemOrder, true)
		} else {
			err = writeValue(b, e)
		}
		if err != nil {
			return err
		}
	}
	b.WriteString(`]}`)
	return nil
}

func writeValue(b *bytes.Buffer, v any) error {
	enc := json.NewEncoder(b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return err
	}
	b.Truncate(b.Len() - 1) // Encode's newline
	return nil
}
