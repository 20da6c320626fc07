package fhirpath

// The R4 type model is generated from the official R4 core package (found through
// internal/shared, i.e. ../shared or $PACHECK_SHARED; pass -package to override).
//go:generate go run ./internal/genmodel -out model_r4_gen.go
