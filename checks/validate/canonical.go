package validate

import (
	"net/url"
	"regexp"
	"strings"
)

var (
	oidURN  = regexp.MustCompile(`^urn:oid:[0-2](\.(0|[1-9][0-9]*))+$`)
	uuidURN = regexp.MustCompile(`^urn:uuid:[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)
)

// isCanonical reports whether s is a canonical reference: an absolute URI, optionally
// |version. FHIR canonicals are URIs, not only URLs (R4 datatypes: canonical is a uri), so
// urn:oid: and urn:uuid: names are canonicals too; those two must be well formed (OID, UUID
// syntax as the R4 oid and uuid types say).
func isCanonical(s string) bool {
	u, _, _ := strings.Cut(s, "|")
	if u == "" || strings.ContainsAny(u, " \t\r\n") {
		return false
	}
	switch lower := strings.ToLower(u); {
	case strings.HasPrefix(lower, "urn:oid:"):
		return oidURN.MatchString("urn:oid:" + u[len("urn:oid:"):])
	case strings.HasPrefix(lower, "urn:uuid:"):
		return uuidURN.MatchString("urn:uuid:" + u[len("urn:uuid:"):])
	}
	p, err := url.Parse(u)
	if err != nil || p.Scheme == "" {
		return false
	}
	if p.Scheme == "http" || p.Scheme == "https" {
		return p.Host != "" && p.Path != "" && p.Path != "/"
	}
	return p.Opaque != "" || p.Host != ""
}
