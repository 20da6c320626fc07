package igdata

import "github.com/pacheck/pacheck/suites/uscore/ig"

// MustSupportGaps tallies a profile's must-support elements over its resources: missing are the
// elements populated in none of them and covered by no populated alternative; notRequired are the
// unpopulated elements the profile does not require in data, as "id: reason". Both keep the
// order of ms.
func MustSupportGaps(ms []*ig.MSElement, pool []map[string]any) (missing, notRequired []string) {
	present := map[string]bool{}
	for _, m := range ms {
		for _, r := range pool {
			if m.Present(r) {
				present[m.ID] = true
				break
			}
		}
	}
	for _, m := range ms {
		if present[m.ID] {
			continue
		}
		if m.NotRequired != "" {
			notRequired = append(notRequired, m.ID+": "+m.NotRequired)
			continue
		}
		alt := false
		for _, a := range m.Alternatives {
			alt = alt || present[a]
		}
		if !alt {
			missing = append(missing, m.ID)
		}
	}
	return missing, notRequired
}
