// Package catalogue holds only the fault catalogue test (TestFaultCatalogue): one pacheck run
// against the reference server per fault, each judged against the requirements the fault breaks.
// It is its own package, apart from the cli package's tests, so that `go test ./...` runs the two
// test binaries side by side: the catalogue is the longest test of the project, and with it in
// the cli package every other cli test waited behind it.
package catalogue
