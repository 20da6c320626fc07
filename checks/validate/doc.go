// Rule codes (issue.Issue.Rule) the validator reports; they are stable.
//
// Structural layer (checks/validate/structure; its walker or its JSON Schema engine):
//
//	json-syntax, json-duplicate-key, json-depth, json-size, json-encoding, not-a-resource,
//	resource-type, unknown-element, type, primitive-format, empty, choice-type, element-sibling
//
// Profile layer:
//
//	cardinality        min/max of an element (a sliced one over all its values) and of each
//	                   slice over the values in it
//	type               a value's type, a resource type where a specific type is required
//	choice-type        a concrete choice property whose type the base allows but the profile
//	                   excludes (effectiveInstant where the profile allows effectiveDateTime |
//	                   effectivePeriod; valueString on an extension whose value[x] is code),
//	                   reported at that property; types the base excludes are structural
//	fixed, pattern     fixed[x] (exact) and pattern[x] (partial; each pattern array item matched)
//	slicing            closed slicing, openAtEnd, ordered; information when a slice could not
//	                   be decided without a terminology server
//	reference-target   the referenced type is not allowed by targetProfile, or #id not contained;
//	                   inside a Bundle a reference resolves to an entry (a relative one against
//	                   the referring entry's RESTful fullUrl base) whose type and profiles count
//	bundle-fullurl     a Bundle.entry.fullUrl that is not absolute, or RESTful (.../Type/id) with
//	                   an id other than the resource's (a type mismatch is resource-type; bdl-7
//	                   and bdl-8 are invariants)
//	bundle-link        (warning) a second Bundle.link with relation self
//	extension-unknown  an extension whose definition is not loaded: a warning, or an error with
//	                   ValidateOptions.RejectUnknownExtensions (pacheck validate's default, as the
//	                   HL7 Java validator CLI) unless its url is in an example domain or an
//	                   AllowedExtensionDomains entry (--allowed-extension-domain); always an error
//	                   for a modifier extension; a warning for a relative sub-extension url that
//	                   its complex extension's (open) slicing does not define
//	extension-context  an extension used on an element its StructureDefinition.context does not
//	                   allow (error; a warning naming the profile when a profile's own slice puts
//	                   it there); information when only FHIRPath contexts could allow it (not
//	                   evaluated)
//	extension-url      an extension url that is not an absolute URI (sub-extensions excepted)
//	profile-unknown    a meta.profile that cannot be resolved (warning: the resource is still
//	                   validated against its base type and the claims that resolve, as the HL7
//	                   validator does), one of a declared-but-missing dependency (warning), or a
//	                   requested profile (ValidateOptions.Profiles, --profile) that cannot be
//	                   resolved (error: what was asked for was not checked)
//	profile-type       the profile constrains another resource type
//
// Terminology layer:
//
//	binding            required (error) / extensible (warning) bindings against locally
//	                   expanded value sets; information "not checked: no terminology server"
//	                   for large external code systems and value sets that are not available.
//	                   With Options.Terminology (--tx URL) those codes are asked about with
//	                   ValueSet/$validate-code (cached per value set, system and code; bounded
//	                   in time, answer size and request count): result=false is an error or a
//	                   warning as the strength says; a failed question is information
//	                   "not checked: <why>", never a failure of the resource
//	code-unknown       a code that does not exist in a complete local code system
//
// Canonicals resolve in the package context given by ValidateOptions.IG, except that a profile
// refers to value sets, code systems, type and target profiles in its own package: the validation
// context when it holds the profile's package, else that package's own context (a CARIN BB 1.1.0
// claim is checked against CARIN BB 1.1.0's code systems in the US Core 6.1.0 context).
//
// Invariants:
//
//	invariant:<key>           a failed constraint (error or warning as the constraint says): the
//	                          element's own, a type profile root's, and the R4 datatype's root
//	                          invariants on every value of the type (per-1, cpt-2, qty-3, att-1,
//	                          ref-1, rng-2, rat-1, age-1, drt-1…), each key once per value; a few
//	                          published expressions that are not valid FHIRPath for the data they
//	                          mean to accept are evaluated in their publisher's corrected form
//	                          (correctedExpressions: US Core pd-1); txt-1 and txt-2 (narrative
//	                          XHTML: allowed elements and attributes, one root div in the XHTML
//	                          namespace, well-formed; some content) are evaluated natively
//	                          (narrative.go), with the problem found in the message
//	                          best-practice constraints (elementdefinition-bestpractice: dom-6,
//	                          con-3, us-core-4...) are reported at Options.BestPractice's level
//	                          (--best-practice ignore|hint|warning|error; default warning)
//	invariant-not-evaluated   (information) the FHIRPath engine could not evaluate it;
//	                          skipped-invariants.txt lists the keys never evaluated, with reasons
package validate
