package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/onsi/ginkgo/v2/types"

	"github.com/pacheck/pacheck/profiles"
	"github.com/pacheck/pacheck/profiles/attest"
	_ "github.com/pacheck/pacheck/suites/all" // registers every suite's specs
	"github.com/pacheck/pacheck/suites/runner"
)

func init() {
	register(&command{name: "list", summary: "print the specs a run would execute (no network)", run: runList})
}

const listHelp = `Usage: pacheck list [--preset NAME | --config FILE] [--label-filter EXPR] [--focus RE]
                    [--requirements [--official [-v]]] [--format text|json]

Prints the specs a run would execute — id, requirement ids, level, IG — without touching the
network. --label-filter and --focus select specs with Ginkgo semantics
(e.g. --label-filter 'level:SHALL && ig:uscore-6.1.0').

With --requirements it prints coverage: every catalogue requirement with the specs that test
it; requirements no spec tests are listed as untested, with why, or as attested when
--attestations (config attestations) holds the payer's attestation for one that takes it.
With --requirements --official it prints coverage of the IGs' numbered server requirements
(ids such as hl7.fhir.us.core_6.1.0@51) per IG version: tested, attested, explained, unmapped;
-v adds every official id with its status and our requirement ids or the reason.

Examples:
  pacheck list --preset cms-patient-access
  pacheck list --requirements
  pacheck list --requirements --official -v
  pacheck list --preset public --format json
`

type listedSpec struct {
	ID           string   `json:"id"`
	Requirements []string `json:"requirements"`
	Level        string   `json:"level"`
	IG           string   `json:"ig,omitempty"`
}

func runList(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlags("list", listHelp, stdout)
	var f runFlags
	format := fs.String("format", "text", "text or json")
	reqs := fs.Bool("requirements", false, "print requirement coverage instead: each requirement with its specs, untested ones with why")
	fs.StringVar(&f.preset, "preset", "", "preset name (pacheck presets)")
	fs.StringVar(&f.config, "config", "", "configuration file")
	fs.StringVar(&f.labelFilter, "label-filter", "", "Ginkgo label-filter expression")
	fs.Var(&f.focus, "focus", "regular expression on spec ids (repeatable)")
	fs.StringVar(&f.attestations, "attestations", "", "with --requirements: the payer's attestations file (config attestations)")
	off := fs.Bool("official", false, "with --requirements: coverage of the IGs' numbered server requirements per IG version")
	offVerbose := fs.Bool("v", false, "with --official: list every official id with its status")
	if code, ok := parse(fs, args, stderr); !ok {
		return code
	}
	if (*off && !*reqs) || (*offVerbose && !*off) {
		errorf(stderr, "list", "--official needs --requirements, and -v needs --official")
		return ExitUsage
	}
	if *format != "text" && *format != "json" {
		errorf(stderr, "list", "--format %q: use text or json", *format)
		return ExitUsage
	}
	p, err := f.resolve(false, os.LookupEnv)
	if err != nil {
		errorf(stderr, "list", "%v", err)
		return ExitUsage
	}
	rep, err := runner.List(runner.Options{Run: p.run, LabelFilter: p.file.LabelFilter, Focus: p.file.Focus})
	if err != nil {
		errorf(stderr, "list", "%v", err)
		return ExitEnvError
	}
	if *reqs {
		atts, err := loadAttestations(p.file.Attestations)
		if err != nil {
			errorf(stderr, "list", "%v", err)
			return ExitUsage
		}
		if *off {
			return printOfficial(stdout, stderr, rep, *format, atts, *offVerbose)
		}
		return printCoverage(stdout, stderr, rep, *format, atts)
	}
	var specs []listedSpec
	for _, s := range rep.SpecReports {
		if s.LeafNodeType != types.NodeTypeIt || s.State == types.SpecStateSkipped {
			continue // not a spec, or filtered out by the label filter or focus
		}
		ls := listedSpec{ID: runner.SpecID(s), Level: runner.Level(s), Requirements: []string{}}
		for _, l := range s.Labels() {
			switch {
			case strings.HasPrefix(l, "req:"):
				ls.Requirements = append(ls.Requirements, strings.TrimPrefix(l, "req:"))
			case strings.HasPrefix(l, "ig:"):
				ls.IG = strings.TrimPrefix(l, "ig:")
			}
		}
		specs = append(specs, ls)
	}
	if *format == "json" {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		if specs == nil {
			specs = []listedSpec{}
		}
		enc.Encode(specs)
		return ExitOK
	}
	for _, s := range specs {
		fmt.Fprintf(stdout, "%s\t%s\t%s\t%s\n", s.ID, s.Level, s.IG, strings.Join(s.Requirements, ","))
	}
	fmt.Fprintf(stdout, "%d specs\n", len(specs))
	return ExitOK
}

type coverage struct {
	ID        string   `json:"id"`
	Level     string   `json:"level"`
	CFR       []string `json:"cfr,omitempty"`
	Specs     []string `json:"specs"`
	Untested  bool     `json:"untested,omitempty"`
	Why       string   `json:"why,omitempty"`
	Statement string   `json:"statement"`
	// Attested is the payer's attestation of a requirement no spec tests (not a pass).
	Attested *attest.Entry `json:"attested,omitempty"`
}

func printCoverage(stdout, stderr io.Writer, rep types.Report, format string, atts []attest.Entry) int {
	cat, err := profiles.Requirements()
	if err != nil {
		errorf(stderr, "list", "%v", err)
		return ExitEnvError
	}
	specsOf := map[string][]string{}
	for _, s := range rep.SpecReports {
		if s.LeafNodeType != types.NodeTypeIt || s.State == types.SpecStateSkipped {
			continue
		}
		for _, l := range s.Labels() {
			if id, ok := strings.CutPrefix(l, "req:"); ok {
				specsOf[id] = append(specsOf[id], runner.SpecID(s))
			}
		}
	}
	attested := map[string]*attest.Entry{}
	for i := range atts {
		attested[atts[i].ID] = &atts[i]
	}
	var out []coverage
	untested, nAttested := 0, 0
	for _, r := range cat.All() {
		c := coverage{ID: r.ID, Level: r.Level, CFR: r.CFR, Specs: specsOf[r.ID], Statement: r.Statement}
		if c.Specs == nil {
			c.Specs = []string{}
			if a := attested[r.ID]; a != nil && r.Attestation != "" {
				c.Attested = a
				nAttested++
				out = append(out, c)
				continue
			}
			c.Untested = true
			untested++
			switch {
			case r.Attestation != "":
				c.Why = attest.Missing(r)
			case r.UntestedReason != "":
				c.Why = r.UntestedReason
			default:
				c.Why = "no spec in this selection tests it (other preset or label filter, or not yet implemented)"
			}
		}
		out = append(out, c)
	}
	if format == "json" {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		enc.Encode(out)
		return ExitOK
	}
	for _, c := range out {
		if c.Attested != nil {
			fmt.Fprintf(stdout, "%-55s %-6s ATTESTED (not tested) by %s on %s\n", c.ID, c.Level, termSafe(c.Attested.Who, false), c.Attested.When)
		} else if c.Untested {
			fmt.Fprintf(stdout, "%-55s %-6s UNTESTED: %s\n", c.ID, c.Level, c.Why)
		} else {
			fmt.Fprintf(stdout, "%-55s %-6s %d spec(s)\n", c.ID, c.Level, len(c.Specs))
		}
	}
	if nAttested > 0 {
		fmt.Fprintf(stdout, "%d requirements, %d tested, %d attested, %d untested\n", len(out), len(out)-untested-nAttested, nAttested, untested)
	} else {
		fmt.Fprintf(stdout, "%d requirements, %d tested, %d untested\n", len(out), len(out)-untested, untested)
	}
	return ExitOK
}
