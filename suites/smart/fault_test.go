package smart

import (
	"fmt"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/pacheck/pacheck/fixtures/refserver/auth"
	"github.com/pacheck/pacheck/fixtures/refserver/fault"
)

const p = "smart-2.0.0/"

// faultTable maps each reference-server fault to the spec ids it must make fail. Every SMART
// requirement the suite tests has at least one fault here.
var faultTable = map[string][]string{
	auth.FaultPKCENotVerified:            {p + "probes/wrong-pkce-verifier", p + "probes/missing-pkce-verifier"},
	auth.FaultPKCEPlainAccepted:          {p + "probes/pkce-plain-refused"},
	auth.FaultStateDropped:               {p + "launch/state-unchanged"},
	auth.FaultStateAltered:               {p + "launch/state-unchanged"},
	auth.FaultCodeReusable:               {p + "launch/code-single-use"},
	auth.FaultCodeNoExpiry:               {p + "probes/code-expired"},
	auth.FaultTokenNoPatient:             {p + "token/patient-context"},
	auth.FaultTokenNoExpiresIn:           {p + "token/expires-in"},
	auth.FaultTokenTypeWrong:             {p + "token/type-bearer"},
	auth.FaultTokenCacheControl:          {p + "token/no-store"},
	auth.FaultIDTokenUnsigned:            {p + "id-token/signature"},
	auth.FaultIDTokenBadSignature:        {p + "id-token/signature"},
	auth.FaultIDTokenWrongAud:            {p + "id-token/claims"},
	auth.FaultIDTokenNoFHIRUser:          {p + "id-token/fhiruser"},
	auth.FaultRefreshDisabled:            {p + "token/refresh"},
	auth.FaultRefreshScopeWidening:       {p + "token/refresh-widening-refused"},
	auth.FaultExpiredTokenAccepted:       {p + "probes/expired-token"},
	auth.FaultInvalidTokenAccepted:       {p + "probes/garbage-token"},
	auth.FaultRevokedTokenAccepted:       {p + "revocation/revoked-token-refused"},
	auth.FaultScopeNotEnforced:           {p + "scopes/resource-level", p + "scopes/granular"},
	auth.FaultGranularScopeIgnored:       {p + "scopes/granular"},
	auth.FaultGranularOtherTypesIgnored:  {p + "scopes/granular-advertised"},
	auth.FaultSMARTConfigMissingField:    {p + "discovery/required-fields"},
	auth.FaultSMARTConfigS256Missing:     {p + "discovery/s256-required"},
	auth.FaultRedirectURINotChecked:      {p + "probes/wrong-redirect-uri"},
	auth.FaultAudNotChecked:              {p + "probes/bad-aud"},
	auth.FaultUnknownClientAccepted:      {p + "probes/unknown-client-id"},
	auth.FaultBadClientSecretAccepted:    {p + "probes/bad-client-secret"},
	auth.FaultClientAssertionNotVerified: {p + "probes/bad-client-assertion"},
	auth.FaultIntrospectionAlwaysActive:  {p + "introspection/inactive"},
	auth.FaultTokenInQueryAccepted:       {p + "probes/token-in-query"},
	auth.FaultConsentIgnored:             {p + "scopes/consent-decline"},
	auth.FaultCodeOtherClientAccepted:    {p + "probes/code-other-client"},
	auth.FaultDenyIgnored:                {p + "probes/consent-deny"},
	auth.FaultRefreshResourceWidening:    {p + "token/refresh-widening-refused"},
	auth.FaultIntrospectionExpWrong:      {p + "introspection/exp-matches-token"},
	auth.FaultIntrospectionNoIDClaims:    {p + "introspection/id-token-claims"},
	auth.FaultIntrospectionNoFHIRUser:    {p + "introspection/fhiruser"},
	"compartment-leak":                   {p + "probes/other-member-data"},
	auth.FaultEHRLaunchNotAdvertised:     {p + "ehr-launch/capability"},
	auth.FaultEHRLaunchNoIss:             {p + "ehr-launch/launch-params"},
	auth.FaultEHRLaunchWrongIss:          {p + "ehr-launch/iss-fhir-base"},
	auth.FaultEHRLaunchNoContext:         {p + "ehr-launch/context"},
	auth.FaultEHRLaunchForeignAccepted:   {p + "ehr-launch/foreign-launch-refused"},
	auth.FaultBannerNotBoolean:           {p + "token/need-patient-banner", p + "ehr-launch/need-patient-banner"},
	auth.FaultStyleURLRelative:           {p + "ehr-launch/smart-style-url"},
	auth.FaultFHIRContextMalformed:       {p + "token/fhir-context", p + "ehr-launch/fhir-context"},
	auth.FaultV1ReadNoSearch:             {p + "scopes/v1-compat"},
}

// mayBlock lists specs a fault legitimately blocks: they depend on the baseline it breaks and
// end as errors naming the spec that reports it.
var mayBlock = map[string]map[string]string{
	auth.FaultRefreshDisabled: {p + "token/refresh-narrowing": p + "token/refresh", p + "token/refresh-widening-refused": p + "token/refresh"},
	// No iss on the launch URL: there is no iss to compare with the FHIR base.
	auth.FaultEHRLaunchNoIss: {p + "ehr-launch/iss-fhir-base": p + "ehr-launch/launch-params"},
}

// maySkip lists specs a fault honestly leaves without data to judge: they skip, saying why.
var maySkip = map[string][]string{
	// No fhirUser in the id_token: introspection has no fhirUser to repeat.
	auth.FaultIDTokenNoFHIRUser: {p + "introspection/fhiruser"},
}

// cheap specs need no browser login beyond the main launch (isolation uses other_patient in
// fault runs); every batch runs them, so each fault is also shown not to disturb them.
var cheap = []string{
	"discovery/well-known", "discovery/required-fields", "discovery/s256-required", "discovery/capabilities",
	"discovery/capability-statement-agrees", "discovery/openid-configuration", "launch/standalone", "launch/state-unchanged",
	"token/type-bearer", "token/patient-context", "token/expires-in", "token/no-store", "token/scope-granted",
	"id-token/signature", "id-token/claims", "id-token/fhiruser", "probes/bad-aud", "probes/pkce-plain-refused",
	"probes/unknown-client-id", "probes/missing-token", "probes/garbage-token", "probes/expired-token",
	"probes/token-in-query", "probes/other-member-data",
}

// lifecycleSpecs share one auxiliary launch.
var lifecycleSpecs = []string{"launch/code-single-use", "token/refresh", "token/refresh-narrowing",
	"token/refresh-widening-refused", "introspection/active", "introspection/inactive", "introspection/exp-matches-token",
	"introspection/id-token-claims", "introspection/fhiruser", "revocation/revoked-token-refused"}

// batches are the reference server's fault batches (auth.Batches) that break SMART
// requirements; the member suite's consent-page batch is the fault catalogue's.
var batches = smartBatches()

func smartBatches() [][]string {
	var out [][]string
	for _, b := range auth.Batches {
		if _, ok := faultTable[b[0]]; ok {
			out = append(out, b)
		}
	}
	return out
}

func focusFor(ids []string) []string {
	var out []string
	for _, id := range ids {
		out = append(out, " "+regexp.QuoteMeta(strings.ReplaceAll(id, "/", " "))+"$")
	}
	return out
}

// TestFaultTableComplete: every auth fault is in the table or explained, every batch fault is in
// the table exactly once, and every requirement the faults name is one a table spec carries.
func TestFaultTableComplete(t *testing.T) {
	seen := map[string]int{}
	for _, b := range batches {
		for _, f := range b {
			seen[f]++
		}
	}
	for _, f := range auth.FaultNames() {
		_, inTable := faultTable[f]
		_, in22 := faultTable22[f]
		inTable = inTable || in22
		d, _ := fault.Lookup(f)
		if !slices.ContainsFunc(d.Requirements, func(r string) bool { return strings.HasPrefix(r, "smart.") }) {
			continue // a consent-page fault of the member suite (suites/member), proven by the fault catalogue
		}
		skipped := d.Untested != ""
		if !inTable && !skipped {
			t.Errorf("fault %s: neither in the fault table nor explained as untested", f)
		}
	}
	for f := range faultTable {
		if seen[f] != 1 {
			t.Errorf("fault %s is in %d batches, want 1", f, seen[f])
		}
		if _, ok := fault.Lookup(f); !ok {
			t.Errorf("fault %s is not in the reference-server catalogue", f)
		}
	}
	for i, b := range batches {
		specs := map[string]string{}
		for _, f := range b {
			for _, id := range faultTable[f] {
				if other, dup := specs[id]; dup {
					t.Errorf("batch %d: %s is expected to fail for both %s and %s: the batch cannot tell them apart", i, id, other, f)
				}
				specs[id] = f
			}
		}
	}
}

func TestFaults(t *testing.T) {
	if testing.Short() {
		t.Skip("runs headless Chromium")
	}
	t.Parallel()
	for i, b := range batches {
		t.Run(fmt.Sprintf("batch-%d", i), func(t *testing.T) {
			t.Parallel()
			runBatch(t, i, b)
		})
	}
}

func runBatch(t *testing.T, i int, faults []string) {
	want := map[string]string{}    // spec id -> fault
	blockOK := map[string]string{} // spec id -> the cause it may name
	skipOK := map[string]bool{}    // spec ids that may skip (maySkip)
	ids := map[string]bool{}
	for _, c := range cheap {
		ids[p+c] = true
	}
	lifecycle := false
	for _, f := range faults {
		for _, id := range faultTable[f] {
			want[id] = f
			ids[id] = true
			for _, l := range lifecycleSpecs {
				lifecycle = lifecycle || id == p+l
			}
		}
		for id, cause := range mayBlock[f] {
			blockOK[id] = cause
		}
		for _, id := range maySkip[f] {
			skipOK[id] = true
		}
	}
	if lifecycle {
		for _, l := range lifecycleSpecs {
			ids[p+l] = true
		}
	}
	var list []string
	for id := range ids {
		list = append(list, id)
	}
	sort.Strings(list)
	res, _ := runChild(t, childJob{Variant: "faults", Faults: faults, Focus: focusFor(list)})
	t.Logf("batch %d %v: %d specs in %.0fs", i, faults, len(res.Outcomes), res.Seconds)
	if len(res.Outcomes) != len(list) {
		t.Errorf("batch %d: %d specs ran, want %d (focus mismatch?)", i, len(res.Outcomes), len(list))
	}
	for id, o := range res.Outcomes {
		f, expected := want[id]
		switch {
		case expected && o != "fail":
			t.Errorf("fault %s: spec %s: outcome %s, want fail", f, id, o)
		case !expected && o == "error" && blockOK[id] != "" && res.Blocked[id].Cause == blockOK[id]:
		case !expected && o == "skip" && skipOK[id]:
		case !expected && o != "pass":
			t.Errorf("batch %v: spec %s: outcome %s, want pass (only the faults' own specs may fail): %s", faults, id, o, firstLine(res.Failures[id]))
		}
	}
	for id := range want {
		if _, ran := res.Outcomes[id]; !ran {
			t.Errorf("batch %d: expected failing spec %s did not run", i, id)
		}
	}
}
