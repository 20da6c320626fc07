// Package interop holds the interop harness: pacheck run against SMART-on-FHIR implementations its
// authors did not write (server.js: Medplum's in-memory FHIR engine and oidc-provider behind a thin
// SMART adapter, installed from npm at pinned versions), and the table of verdicts expected from
// that run (expected.yaml). `make interop` installs the Node part and runs TestInterop (build tag
// interop), which fails on any difference between the run's results.json and the table. It is not
// part of `make test`.
package interop
