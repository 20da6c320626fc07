// Package fhirpath is pacheck's FHIRPath engine (FHIRPath N1/2.0 as used by FHIR R4, plus
// the FHIR additions), used for invariant checking in the validator and for search checks.
//
// # Use
//
//	e, err := fhirpath.Compile("name.exists() or identifier.exists()") // *SyntaxError on failure
//	res, err := e.Evaluate(ctx, resource, &fhirpath.Env{Resource: resource})
//	ok, known, err := res.Bool() // invariants: true / false / empty
//
// Compile once and evaluate many times: an *Expression is immutable and safe for concurrent
// use. [Cache] (or [CompileCached]) memoises compilation for invariants that arrive as text.
//
// Input is FHIR JSON decoded to map[string]any / []any with json.Decoder.UseNumber(); use
// [DecodeJSON]. Items keep their JSON form and their FHIR type from the generated R4 model
// (model_r4_gen.go, written by internal/genmodel from hl7.fhir.r4.core 4.0.1), so type(),
// is/as/ofType, choice elements (value, valueQuantity, value.ofType(Quantity)) and primitive
// extensions held in "_name" siblings all work.
//
// # Env
//
// [Env] holds %resource, %rootResource and %context (default: the input), caller variables
// (Vars, used as %name), the hooks Resolver (resolve() of references not found in contained
// resources or the enclosing Bundle), MemberOf (memberOf()) and ConformsTo (conformsTo()),
// the Trace writer (trace(); default os.Stderr, never stdout; R4 invariants such as ref-1
// and dom-3 call trace(), so validators usually pass io.Discard), Now (for now(), today() and
// timeOfDay()), Strict (reject paths unknown to the model and concrete choice names, as the
// official suite's strict mode) and the limits MaxSteps and MaxItems.
//
// # Semantics
//
// Decimals are exact ([Decimal]; precision is kept, so 1.0 ~ 1.00 and precision() work);
// division keeps 8 decimal places. Dates, date-times and times keep their precision:
// comparing values of different precision gives empty when the known parts are equal.
// Quantities compare across UCUM units of the same dimension (a small built-in UCUM table)
// and calendar durations (week, day, hour, … equal their UCUM counterparts; year and month
// do not compare with 'a' and 'mo'). Boolean operators use three-valued logic and empty
// collections propagate through operators and functions.
//
// # Safety
//
// Parsing bounds nesting depth, syntax tree height and expression size; evaluation counts
// steps (Env.MaxSteps, default [DefaultMaxSteps], including bytes of computed strings),
// bounds every collection (Env.MaxItems, default [DefaultMaxItems]) and honours ctx
// cancellation; errors from the limits wrap [ErrBudget]. The evaluator does not panic on
// any input (see FuzzEvaluate and FuzzJSONInput); Evaluate still converts an unexpected
// panic into an error.
//
// # Output
//
// [FormatJSON] renders a result as [{"type": T, "value": V}] the way the official test files
// write outputs (boolean, integer, decimal, string, date, dateTime, time, code, Quantity, …,
// or the FHIR complex type name with the JSON object as value).
package fhirpath
