package oauth

import (
	"fmt"
	"strings"
	"time"

	"github.com/pacheck/pacheck/checks/issue"
)

// Rule codes of the checks relating an introspection answer to the token response that issued
// the token (SMART token-introspection.html: the fields are "as included in the original access
// token response").
const (
	RuleIntrospectExp      = "introspect.exp"
	RuleIntrospectIDClaims = "introspect.id-token-claims"
	RuleIntrospectFHIRUser = "introspect.fhiruser"
)

// IntrospectToken is what the introspected token's own token response said.
type IntrospectToken struct {
	Token   *TokenResponse // the response that issued the access token (Received, ExpiresIn)
	IDToken *IDToken       // its id_token, decoded; nil when it carried none
	Now     time.Time      // when the introspection answered (default time.Now())
	// Leeway covers the clocks of pacheck and the server and the time between issue and
	// receipt (default 5 minutes).
	Leeway time.Duration
}

// CheckIntrospectionToken relates an active introspection answer to its token: exp (and iat when
// given) agree with the token's lifetime, the id_token's iss and sub are repeated (SHALL), and
// its fhirUser too (SHOULD: a warning). Answers that are not HTTP 200 with active true are
// CheckIntrospection's to judge and give no issue here.
func CheckIntrospectionToken(in *Introspection, want IntrospectToken) issue.List {
	if in == nil || in.Status != 200 || !in.ActiveOK || !in.Active || want.Token == nil {
		return nil
	}
	now := want.Now
	if now.IsZero() {
		now = time.Now()
	}
	leeway := want.Leeway
	if leeway <= 0 {
		leeway = 5 * time.Minute
	}
	var out issue.List
	add := func(sev issue.Severity, rule, path, msg string) {
		out = append(out, issue.Issue{Severity: sev, Rule: rule, Path: path, Message: msg})
	}
	if exp, ok := numericDate(in.Raw["exp"]); ok {
		switch {
		case exp.Before(now.Add(-leeway)):
			add(issue.Error, RuleIntrospectExp, "exp", fmt.Sprintf("exp: the token is reported active, but its exp %s is past (now %s)", stamp(exp), stamp(now)))
		case want.Token.ExpiresIn > 0 && !want.Token.Received.IsZero():
			// expires_in counts from the token response; exp must name that same instant.
			issued := want.Token.Received.Add(time.Duration(want.Token.ExpiresIn) * time.Second)
			if d := exp.Sub(issued); d > leeway || d < -leeway {
				add(issue.Error, RuleIntrospectExp, "exp", fmt.Sprintf("exp: expected the expiry the token response gave (expires_in %d s from %s, so about %s), got %s",
					want.Token.ExpiresIn, stamp(want.Token.Received), stamp(issued), stamp(exp)))
			}
		}
		if iat, ok := numericDate(in.Raw["iat"]); ok && (iat.After(now.Add(leeway)) || iat.After(exp)) {
			add(issue.Error, RuleIntrospectExp, "iat", fmt.Sprintf("iat: expected the time the token was issued (not after now or exp), got %s", stamp(iat)))
		}
	}
	if t := want.IDToken; t != nil {
		for _, c := range []struct{ name, want string }{{"iss", t.Issuer}, {"sub", t.Subject}} {
			got, present := in.Raw[c.name]
			s, _ := got.(string)
			switch {
			case !present:
				add(issue.Error, RuleIntrospectIDClaims, c.name, c.name+": an id_token was issued with the token, so its "+c.name+" is required in the introspection, but it is absent")
			case c.want != "" && s != c.want:
				add(issue.Error, RuleIntrospectIDClaims, c.name, fmt.Sprintf("%s: expected the id_token's %s %q, got %q", c.name, c.name, clipClaim(c.want), clipClaim(fmt.Sprint(got))))
			}
		}
		if t.FHIRUser != "" {
			got, _ := in.Raw["fhirUser"].(string)
			switch {
			case got == "":
				add(issue.Warning, RuleIntrospectFHIRUser, "fhirUser", "fhirUser: the id_token carries fhirUser, which the introspection should repeat, but it is absent")
			case !sameFHIRUser(got, t.FHIRUser):
				add(issue.Warning, RuleIntrospectFHIRUser, "fhirUser", fmt.Sprintf("fhirUser: expected the id_token's %q, got %q", clipClaim(t.FHIRUser), clipClaim(got)))
			}
		}
	}
	return out
}

// sameFHIRUser compares fhirUser values, one of which may be relative to the FHIR base
// ("Patient/1" and "https://x/fhir/Patient/1" name the same resource).
func sameFHIRUser(a, b string) bool {
	if a == b {
		return true
	}
	return (strings.HasSuffix(a, "/"+b) && !strings.Contains(b, "://")) || (strings.HasSuffix(b, "/"+a) && !strings.Contains(a, "://"))
}

func stamp(t time.Time) string { return t.UTC().Format(time.RFC3339) }

// clipClaim bounds a server-supplied value quoted in a message.
func clipClaim(s string) string {
	if len(s) > 200 {
		return s[:200] + "…"
	}
	return s
}
