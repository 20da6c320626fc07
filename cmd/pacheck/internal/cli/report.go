package cli

import (
	"context"
	"crypto/ed25519"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"os"

	"github.com/pacheck/pacheck/reports"
)

func init() {
	register(&command{name: "report", summary: "compare two runs (report diff OLD NEW)", run: runReport})
	register(&command{name: "verify", summary: "check an evidence bundle's hashes and signature; re-render its HTML", run: runVerify})
}

const reportHelp = `Usage: pacheck report diff [--format text|json] OLD NEW

Compares two runs by spec id: what regressed, what got fixed, what is new, what disappeared.
OLD and NEW are results.json files, report folders or evidence bundles.
Exit: 0 no regression, 1 regressions, 2 unusable input.

Example:
  pacheck report diff last-week/results.json pacheck-report/results.json

Flags:
`

func runReport(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlags("report", reportHelp, stdout)
	format := fs.String("format", "text", "text or json")
	if code, ok := parse(fs, args, stderr); !ok {
		return code
	}
	if fs.NArg() != 3 || fs.Arg(0) != "diff" {
		errorf(stderr, "report", "expected 'diff OLD NEW' (see 'pacheck help report')")
		return ExitUsage
	}
	old, err := loadResults(fs.Arg(1))
	if err != nil {
		errorf(stderr, "report", "%v", err)
		return ExitUsage
	}
	cur, err := loadResults(fs.Arg(2))
	if err != nil {
		errorf(stderr, "report", "%v", err)
		return ExitUsage
	}
	d := reports.Diff(old, cur)
	switch *format {
	case "json":
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		enc.Encode(d)
	case "text":
		d.WriteText(stdout)
	default:
		errorf(stderr, "report", "--format %q: use text or json", *format)
		return ExitUsage
	}
	if len(d.Regressed) > 0 {
		return ExitNonConf
	}
	return ExitOK
}

// loadResults reads results.json from a file, a report folder or a bundle.
func loadResults(path string) (*reports.Results, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("%s: %v", path, err)
	}
	if st.IsDir() {
		return reports.ReadResultsFile(path + "/results.json")
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	magic := make([]byte, 2)
	io.ReadFull(f, magic)
	if magic[0] == 0x1f && magic[1] == 0x8b {
		return reports.Verify(path, nil)
	}
	return reports.ReadResultsFile(path)
}

const verifyHelp = `Usage: pacheck verify [--pubkey FILE] [--out DIR] BUNDLE

Checks every file of an evidence bundle against its manifest's SHA-256 (and the Ed25519
signature with --pubkey), then re-renders index.html offline from results.json into --out.
Exit: 0 intact, 1 tampered or signature invalid, 2 unusable input.

Example:
  pacheck verify --pubkey payer-signing.pub.pem pacheck-evidence.tar.gz

Flags:
`

func runVerify(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlags("verify", verifyHelp, stdout)
	pubPath := fs.String("pubkey", "", "Ed25519 public key (PEM, PKIX) the bundle must be signed with")
	out := fs.String("out", "", "folder to extract the bundle into and re-render index.html")
	if code, ok := parse(fs, args, stderr); !ok {
		return code
	}
	if fs.NArg() != 1 {
		errorf(stderr, "verify", "expected one BUNDLE (see 'pacheck help verify')")
		return ExitUsage
	}
	var pub ed25519.PublicKey
	if *pubPath != "" {
		b, err := os.ReadFile(*pubPath)
		if err != nil {
			errorf(stderr, "verify", "--pubkey: %v", err)
			return ExitUsage
		}
		blk, _ := pem.Decode(b)
		if blk == nil {
			errorf(stderr, "verify", "--pubkey %s: not a PEM file", *pubPath)
			return ExitUsage
		}
		k, err := x509.ParsePKIXPublicKey(blk.Bytes)
		if err != nil {
			errorf(stderr, "verify", "--pubkey %s: %v", *pubPath, err)
			return ExitUsage
		}
		var ok bool
		if pub, ok = k.(ed25519.PublicKey); !ok {
			errorf(stderr, "verify", "--pubkey %s: not an Ed25519 key", *pubPath)
			return ExitUsage
		}
	}
	if _, err := os.Stat(fs.Arg(0)); err != nil {
		errorf(stderr, "verify", "%v", err)
		return ExitUsage
	}
	if *out != "" {
		if entries, err := os.ReadDir(*out); err == nil && len(entries) > 0 {
			errorf(stderr, "verify", "--out %s is not empty: give a new or empty folder", *out)
			return ExitUsage
		}
	}
	var res *reports.Results
	var err error
	if *out != "" {
		res, err = reports.Extract(fs.Arg(0), pub, *out)
		if err == nil {
			err = reports.Rerender(res, *out)
		}
	} else {
		res, err = reports.Verify(fs.Arg(0), pub)
	}
	if err != nil {
		errorf(stderr, "verify", "%v", err)
		return ExitNonConf
	}
	fmt.Fprintf(stdout, "%s: intact (%d specs, verdict %s)\n", fs.Arg(0), res.Counts.Total, res.Verdict)
	if *out != "" {
		fmt.Fprintf(stdout, "re-rendered: %s/index.html\n", *out)
	}
	return ExitOK
}
