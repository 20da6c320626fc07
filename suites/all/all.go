// Package all links every suite area into a binary: importing it registers their specs.
package all

import (
	_ "github.com/pacheck/pacheck/suites/capability"  // CapabilityStatement
	_ "github.com/pacheck/pacheck/suites/carinbb"     // CARIN Blue Button claims
	_ "github.com/pacheck/pacheck/suites/dataquality" // the member's data: duplicates, references, timeliness, completeness
	_ "github.com/pacheck/pacheck/suites/formulary"   // US Drug Formulary (public)
	_ "github.com/pacheck/pacheck/suites/member"      // the member's view of the authorization: consent page, privacy and education links
	_ "github.com/pacheck/pacheck/suites/pdex"        // PDex provenance, prior authorization
	_ "github.com/pacheck/pacheck/suites/plannet"     // Plan-Net provider directory (public)
	_ "github.com/pacheck/pacheck/suites/public"      // no-credential checks (public preset)
	_ "github.com/pacheck/pacheck/suites/smart"       // SMART App Launch and the launch feeding the data suites
	_ "github.com/pacheck/pacheck/suites/uscore"      // US Core data
)
