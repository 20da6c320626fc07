package fhirpath

import "math/big"

func big5() *big.Int { return big.NewInt(5) }
