package fhirpath

//go:generate go run ./internal/genmodel -package ../../../shared/fhir-packages/hl7.fhir.r4.core-4.0.1.tgz -out model_r4_gen.go
