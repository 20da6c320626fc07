package smart

import (
	"fmt"
	"net/url"
	"regexp"
	"strings"

	"github.com/pacheck/pacheck/checks/fhirhttp"
	"github.com/pacheck/pacheck/checks/oauth"
)

// maxAdvertisedGranular bounds the sign-ins of the granular-advertised spec (one per scope).
const maxAdvertisedGranular = 4

// categoryScopeRE matches a v2 patient scope with read or search access restricted by one
// category: patient/Condition.rs?category=http://...|encounter-diagnosis.
var categoryScopeRE = regexp.MustCompile(`^patient/([A-Z][A-Za-z]{1,63})\.(c?r?u?d?s?)\?category=([^&=]+)$`)

// categoryScope is one advertised category-restricted scope.
type categoryScope struct {
	scope, typ, system, code string
}

// advertisedCategoryScopes are the category-restricted read/search scopes in scopes_supported
// (SMART: "The server SHALL support all scopes listed here"), except the one the granular spec
// already probes.
func advertisedCategoryScopes(cfg *oauth.SMARTConfig) []categoryScope {
	if cfg == nil {
		return nil
	}
	var out []categoryScope
	for _, sc := range cfg.ScopesSupported {
		m := categoryScopeRE.FindStringSubmatch(sc)
		if m == nil || sc == granularScope || !strings.ContainsAny(m[2], "rs") {
			continue
		}
		val, err := url.QueryUnescape(m[3])
		if err != nil {
			continue
		}
		sys, code, bar := strings.Cut(val, "|")
		if !bar {
			sys, code = "", val
		}
		if code == "" {
			continue
		}
		out = append(out, categoryScope{scope: sc, typ: m[1], system: sys, code: code})
	}
	return out
}

// matches reports whether a resource carries the scope's category (system too when given).
func (c categoryScope) matches(res map[string]any) bool {
	cats, _ := res["category"].([]any)
	for _, cat := range cats {
		cm, _ := cat.(map[string]any)
		codings, _ := cm["coding"].([]any)
		for _, cd := range codings {
			m, _ := cd.(map[string]any)
			if m["code"] == c.code && (c.system == "" || m["system"] == c.system) {
				return true
			}
		}
	}
	return false
}

// outside counts the resources of the scope's type in a search Bundle that lack its category.
func (c categoryScope) outside(r *fhirhttp.Response) int {
	if r == nil || r.ResourceType() != "Bundle" {
		return 0
	}
	n := 0
	for _, res := range fhirhttp.Entries(r.Resource) {
		if res["resourceType"] == c.typ && !c.matches(res) {
			n++
		}
	}
	return n
}

func (c categoryScope) param() string {
	if c.system == "" {
		return c.code
	}
	return c.system + "|" + c.code
}

// probeAdvertisedGranular launches once per advertised category scope with only that scope
// (plus launch/patient openid fhirUser) and searches its type with and without the category:
// nothing outside the category may come back.
func (s *session) probeAdvertisedGranular() *outcome {
	return s.once("scopes:granular-advertised", func() any {
		d := s.discovery()
		all := advertisedCategoryScopes(d.cfg)
		o := &outcome{}
		if len(all) == 0 {
			o.skip = "scopes_supported advertises no category-restricted read/search scope other than " + granularScope + " (judged by scopes/granular)"
			o.enable = "a server that advertises granular scopes such as patient/Condition.rs?category=...|encounter-diagnosis in scopes_supported"
			return o
		}
		if len(all) > maxAdvertisedGranular {
			o.ev = append(o.ev, &sink{})
			o.ev[0].note("granular scopes", "%d advertised; the first %d are probed (one sign-in each)", len(all), maxAdvertisedGranular)
			all = all[:maxAdvertisedGranular]
		}
		p := s.main().patient()
		judged := 0
		var skipped []string
		for _, c := range all {
			scope := "launch/patient openid fhirUser " + c.scope
			l := s.doLaunch(launchSpec{name: "granular scope " + c.scope, client: s.set.MainClient(), login: s.set.Login, scope: scope, exchange: true})
			o.ev = append(o.ev, l.ev)
			if t := s.tokenTrouble(l, "launch with "+c.scope); t != nil {
				t.ev = o.ev
				return t
			}
			if stated, ok := scopeNotGranted(l.token, c.scope); ok {
				l.ev.note("granular scope", "not granted: the token response's scope is %q", clip(stated, 300))
				skipped = append(skipped, c.scope+" (not granted)")
				continue
			}
			pt := l.patient()
			if pt == "" {
				pt = p
			}
			if pt == "" {
				skipped = append(skipped, c.scope+" (no patient context)")
				continue
			}
			ctx, cancel := s.ctx()
			hc := s.tokenClient(l.token, l.ev)
			restricted, err := hc.Search(ctx, c.typ, url.Values{"patient": {pt}, "category": {c.param()}})
			if err != nil {
				cancel()
				o.infra = err
				return o
			}
			if restricted.Status != 200 {
				o.fail(ruleScopeRefused, "%s search restricted to category %s under the granted scope %s: expected HTTP 200, got %d", c.typ, c.code, c.scope, restricted.Status)
			} else if n := c.outside(restricted); n > 0 {
				o.fail(ruleScopeLeak, "%s search restricted to category %s under %s returned %d %s(s) of another category", c.typ, c.code, c.scope, n, c.typ)
			}
			open, err := hc.Search(ctx, c.typ, url.Values{"patient": {pt}})
			if err != nil {
				cancel()
				o.infra = err
				return o
			}
			if n := c.outside(open); open.Status == 200 && n > 0 {
				o.fail(ruleScopeLeak, "%s search without category under %s: expected refusal or only category %s, got %d %s(s) of other categories", c.typ, c.scope, c.code, n, c.typ)
				cancel()
				judged++
				continue
			}
			l.ev.note("granular scope", "%s search without category answered HTTP %d with nothing outside %s", c.typ, open.Status, c.code)
			// Nothing outside the category proves the restriction only if the member has some.
			if m := s.main(); m.token != nil && m.token.OK() {
				full, err := s.tokenClient(m.token, l.ev).Search(ctx, c.typ, url.Values{"patient": {pt}})
				if err == nil && full.Status == 200 && c.outside(full) == 0 {
					cancel()
					skipped = append(skipped, c.scope+" (the member has no "+c.typ+" outside "+c.code+")")
					continue
				}
			}
			cancel()
			judged++
		}
		if judged == 0 && len(o.issues) == 0 {
			o.skip = fmt.Sprintf("no advertised category scope could be judged: %s", strings.Join(skipped, "; "))
			o.enable = "a server that grants its advertised category scopes, and a member with resources both inside and outside each category"
		} else if len(skipped) > 0 && len(o.ev) > 0 {
			o.ev[len(o.ev)-1].note("granular scopes not judged", "%s", strings.Join(skipped, "; "))
		}
		return o
	}).(*outcome)
}
