package fhirhttp

import (
	"net/http"
	"sort"
)

// clipSlack lets a value be redacted before its final cut, so a secret straddling the cut is
// still recognised whole.
const clipSlack = 1 << 10

// evidenceHeaders returns h redacted and bounded for evidence: each value cut at
// MaxEvidenceHeaderValue, names and values together at MaxEvidenceHeaders (headers beyond are
// left out, in name order); clipped tells whether anything was cut. Location-like headers lose
// their user:pass@. Only the bounded part is redacted, so 9 MiB of hostile headers cost little.
func (c *Client) evidenceHeaders(h http.Header) (map[string][]string, bool) {
	if len(h) == 0 {
		return nil, false
	}
	keys := make([]string, 0, len(h))
	for k := range h {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	clipped := false
	total := 0
	bounded := http.Header{}
	for _, k := range keys {
		if total+len(k) > MaxEvidenceHeaders {
			clipped = true
			break
		}
		total += len(k)
		for _, v := range h[k] {
			if total >= MaxEvidenceHeaders {
				clipped = true
				break
			}
			if len(v) > MaxEvidenceHeaderValue+clipSlack {
				v, clipped = v[:MaxEvidenceHeaderValue+clipSlack], true
			}
			if ck := http.CanonicalHeaderKey(k); ck == "Location" || ck == "Content-Location" {
				v = StripUserinfo(v)
			}
			bounded[k] = append(bounded[k], v)
			total += min(len(v), MaxEvidenceHeaderValue)
		}
	}
	out := c.secrets.RedactHeaders(bounded)
	total = 0
	for _, k := range keys {
		ck := http.CanonicalHeaderKey(k)
		vs, ok := out[ck]
		if !ok {
			continue
		}
		total += len(ck)
		for i, v := range vs {
			if len(v) > MaxEvidenceHeaderValue {
				vs[i], clipped = v[:MaxEvidenceHeaderValue], true
			}
			total += len(vs[i])
		}
		if total > MaxEvidenceHeaders {
			// Redaction can lengthen a value ("***" for a short secret); keep the bound exact.
			delete(out, ck)
			clipped = true
		}
	}
	return out, clipped
}
