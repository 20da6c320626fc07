package smart

// The optional launch context parameters of a token response (SMART App Launch, Scopes and Launch
// Context, "Launch context arrives with your access_token"), each judged on its own, in the token
// response of the EHR launch (ehr-launch/...) and of the standalone launch (token/...):
// need_patient_banner a boolean, smart_style_url a URL, and in 2.x fhirContext an array of
// objects — in 2.0.0 each with a relative reference, in 2.2.0 each with at least one of
// reference, canonical or identifier. An absent parameter is not an issue (they are optional):
// the spec skips, saying so.

import (
	"fmt"
	"net/url"
	"strings"

	. "github.com/onsi/ginkgo/v2"

	"github.com/pacheck/pacheck/checks/issue"
	"github.com/pacheck/pacheck/checks/oauth"
	"github.com/pacheck/pacheck/suites/framework"
)

// Rule codes of the launch context parameter specs.
const (
	ruleCtxBanner  = "launch-context.need-patient-banner"
	ruleCtxStyle   = "launch-context.smart-style-url"
	ruleCtxFHIRCtx = "launch-context.fhir-context"
)

// contextParam is one optional launch context parameter and its check.
type contextParam struct {
	name, req string
	check     func(v any, version string) issue.List
	versions  string // in words, for the skip reason
}

var (
	bannerParam  = contextParam{"need_patient_banner", "smart.context.need-patient-banner", checkBanner, ""}
	styleParam   = contextParam{"smart_style_url", "smart.context.smart-style-url", checkStyleURL, ""}
	fhirCtxParam = contextParam{"fhirContext", "smart.context.fhir-context", checkFHIRContext, " (SMART 2.x)"}
)

func checkBanner(v any, _ string) issue.List {
	if _, ok := v.(bool); ok {
		return nil
	}
	return issue.List{{Severity: issue.Error, Rule: ruleCtxBanner, Path: "need_patient_banner",
		Message: fmt.Sprintf("need_patient_banner: expected a boolean (true or false), got %s %s", jsonKind(v), clip(fmt.Sprint(v), 80))}}
}

func checkStyleURL(v any, _ string) issue.List {
	s, _ := v.(string)
	if u, err := url.Parse(s); s != "" && err == nil && u.IsAbs() && u.Host != "" && (u.Scheme == "https" || u.Scheme == "http") {
		return nil
	}
	return issue.List{{Severity: issue.Error, Rule: ruleCtxStyle, Path: "smart_style_url",
		Message: fmt.Sprintf("smart_style_url: expected an absolute http(s) URL where the style can be retrieved, got %s %q", jsonKind(v), clip(fmt.Sprint(v), 200))}}
}

// checkFHIRContext judges fhirContext by the version's text. 2.0.0: "Each object in the
// fhirContext array SHALL have a reference property with a string value containing a relative
// reference to a FHIR resource", and the array refers to "any resource type other than Patient
// or Encounter". 2.2.0: "Each object in the fhirContext array SHALL include at least one of
// reference, canonical, or identifier"; reference (string) a relative reference, canonical a
// string, identifier an object; role "MAY be omitted and SHALL NOT be the empty string",
// relative roles only those the specification defines ("launch"), others absolute URIs; Patient
// and Encounter "will not be permitted within the fhirContext array unless they include a role
// other than launch".
func checkFHIRContext(v any, version string) issue.List {
	var out issue.List
	bad := func(path, format string, args ...any) {
		out = append(out, issue.Issue{Severity: issue.Error, Rule: ruleCtxFHIRCtx, Path: path, Message: fmt.Sprintf(format, args...)})
	}
	arr, ok := v.([]any)
	if !ok {
		bad("fhirContext", "fhirContext: expected an array of objects, got %s", jsonKind(v))
		return out
	}
	v22 := version == "2.2.0"
	for i, it := range arr {
		p := fmt.Sprintf("fhirContext[%d]", i)
		obj, ok := it.(map[string]any)
		if !ok {
			bad(p, "%s: expected an object, got %s %s", p, jsonKind(it), clip(fmt.Sprint(it), 80))
			continue
		}
		ref, hasRef := obj["reference"]
		refStr, refIsStr := ref.(string)
		_, hasCanon := obj["canonical"]
		_, hasIdent := obj["identifier"]
		switch {
		case !v22 && !hasRef:
			bad(p, "%s: expected a reference (SMART 2.0.0: each object SHALL have a reference property), but it has none", p)
		case v22 && !hasRef && !hasCanon && !hasIdent:
			bad(p, "%s: expected at least one of reference, canonical or identifier, but it has none", p)
		}
		if hasRef {
			if u, err := url.Parse(refStr); !refIsStr || refStr == "" || err != nil || u.IsAbs() || !strings.Contains(strings.Trim(refStr, "/"), "/") {
				bad(p+".reference", "%s.reference: expected a relative reference (Type/id) as a string, got %s %q", p, jsonKind(ref), clip(fmt.Sprint(ref), 120))
			}
		}
		if c, ok := obj["canonical"]; ok && v22 {
			if s, isStr := c.(string); !isStr || s == "" {
				bad(p+".canonical", "%s.canonical: expected a canonical URL string, got %s", p, jsonKind(c))
			}
		}
		if id, ok := obj["identifier"]; ok && v22 {
			if _, isObj := id.(map[string]any); !isObj {
				bad(p+".identifier", "%s.identifier: expected a FHIR Identifier (an object), got %s", p, jsonKind(id))
			}
		}
		role, hasRole := obj["role"]
		roleStr, _ := role.(string)
		if hasRole && v22 {
			u, err := url.Parse(roleStr)
			switch {
			case roleStr == "":
				bad(p+".role", "%s.role: must not be the empty string (SHALL NOT), got %s %q", p, jsonKind(role), clip(fmt.Sprint(role), 80))
			case roleStr != "launch" && (err != nil || !u.IsAbs()):
				bad(p+".role", "%s.role: expected \"launch\" or an absolute URI (relative roles only as the specification defines them), got %q", p, clip(roleStr, 120))
			}
		}
		// Patient and Encounter have their own parameters.
		typ, _ := obj["type"].(string)
		if refIsStr {
			typ, _, _ = strings.Cut(strings.TrimPrefix(refStr, "/"), "/")
		}
		if typ == "Patient" || typ == "Encounter" {
			switch {
			case !v22:
				bad(p, "%s: refers to a %s, but fhirContext refers to resource types other than Patient or Encounter (they have their own parameters)", p, typ)
			case !hasRole || roleStr == "launch":
				bad(p, "%s: refers to a %s with role launch, which the patient/encounter parameters carry; it is permitted in fhirContext only with another role", p, typ)
			}
		}
	}
	return out
}

func jsonKind(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case bool:
		return "a boolean"
	case string:
		return "a string"
	case []any:
		return "an array"
	case map[string]any:
		return "an object"
	default:
		return "a number"
	}
}

// judgeContextParam ends a spec on parameter p of token response t (from what).
func judgeContextParam(p contextParam, t *oauth.TokenResponse, version, what string) {
	GinkgoHelper()
	if t == nil {
		framework.Infra(fmt.Errorf("smart: the %s token response is missing", what))
	}
	v, ok := t.Raw[p.name]
	if !ok {
		framework.SkipBecause(fmt.Sprintf("the %s token response carries no %s (an optional launch context parameter%s)", what, p.name, p.versions),
			"a server that sends "+p.name+" with the launch context")
	}
	framework.ExpectConformant(p.name, p.check(v, version))
}

// contextSpecs declare the launch context parameter specs: on the EHR launch's token response
// (under ehr-launch) when ehr, else on the standalone launch's (under token).
func contextSpecs(v string, ehr bool) {
	params := []contextParam{bannerParam, fhirCtxParam}
	if ehr {
		// smart_style_url is EHR launch context (context-style: "only for an embedded EHR Launch").
		params = []contextParam{bannerParam, styleParam, fhirCtxParam}
	}
	for _, p := range params {
		p := p
		name := strings.ReplaceAll(strings.ReplaceAll(p.name, "_", "-"), "fhirContext", "fhir-context")
		spec(v, name, ids(p.req), func() {
			if !ehr {
				_, m := needMain()
				judgeContextParam(p, m.token, v, "standalone launch's")
				return
			}
			s, e := needEHR()
			if e.l == nil {
				framework.Infra(&framework.BlockedError{Cause: s.specID("ehr-launch/launch-params"), Reason: "the launch URL carried no launch value"})
			}
			if o := s.tokenTrouble(e.l, "authorization with the portal's launch value"); o != nil {
				o.infra = &framework.BlockedError{Cause: s.specID("ehr-launch/context"), Reason: "the authorization with the portal's launch value got no token"}
				judge("EHR launch authorization", o)
			}
			judgeContextParam(p, e.l.token, v, "EHR launch's")
		})
	}
}
