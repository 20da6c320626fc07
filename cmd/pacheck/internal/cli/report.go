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
	"path/filepath"

	"github.com/pacheck/pacheck/internal/safefile"
	"github.com/pacheck/pacheck/reports"
)

func init() {
	register(&command{name: "report", summary: "compare two runs (report diff OLD NEW); print a report to PDF (report pdf DIR); merge runs into a fleet page (report merge DIR...)", run: runReport})
	register(&command{name: "verify", summary: "check an evidence bundle's hashes and signature; re-render its HTML", run: runVerify})
}

const reportHelp = `Usage: pacheck report diff [--format text|json] OLD NEW
       pacheck report pdf DIR
       pacheck report merge [--targets FILE] [--out DIR] REPORT...

diff compares two runs by spec id: what regressed, what got fixed, what is new, what disappeared.
OLD and NEW are results.json files, report folders or evidence bundles.
Exit: 0 no regression, 1 regressions, 2 unusable input.

pdf prints DIR/index.html to DIR/report.pdf with headless Chromium: verdict, regulation
paragraphs, failures by cause, failed specs with their evidence and an appendix of all specs.
Exit: 0 written, 2 no report in DIR, 3 Chromium failed.

merge builds the fleet page of several runs from their report folders, made anywhere (the pods
of deploy/k8s's Indexed Job, other machines); see 'pacheck report merge --help'.

Examples:
  pacheck report diff last-week/results.json pacheck-report/results.json
  pacheck report pdf pacheck-report

Flags:
`

func runReport(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlags("report", reportHelp, stdout)
	format := fs.String("format", "text", "text or json")
	if code, ok := parse(fs, args, stderr); !ok {
		return code
	}
	if fs.NArg() >= 1 && fs.Arg(0) == "merge" {
		return runReportMerge(ctx, fs.Args()[1:], stdout, stderr)
	}
	if fs.NArg() == 2 && fs.Arg(0) == "pdf" {
		return runReportPDF(ctx, fs.Arg(1), stdout, stderr)
	}
	if fs.NArg() != 3 || fs.Arg(0) != "diff" {
		errorf(stderr, "report", "expected 'diff OLD NEW', 'pdf DIR' or 'merge REPORT...' (see 'pacheck help report')")
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

// loadResults reads results.json from a file, a report folder or a bundle. Only regular files
// are read (a FIFO or device fails at once), and a results.json is bounded like one in a bundle.
func loadResults(path string) (*reports.Results, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("%s: %v", path, unwrapPathErr(err))
	}
	if st.IsDir() {
		path = filepath.Join(path, reports.FileResults)
	}
	f, st, err := safefile.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	magic := make([]byte, 2)
	if _, err := io.ReadFull(f, magic); err == nil && magic[0] == 0x1f && magic[1] == 0x8b {
		return reports.Verify(path, nil)
	}
	limit := reports.DefaultBundleLimits.ResultsJSON
	if st.Size() > limit {
		return nil, fmt.Errorf("%s is %d bytes, over the %s limit for a results.json; is it the right file?", path, st.Size(), safefile.Bytes(limit))
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	r, err := reports.ReadJSON(io.LimitReader(f, limit))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return r, nil
}

// readPublicKey reads an Ed25519 public key (PEM, PKIX) from a regular file of at most 1 MiB.
func readPublicKey(path string) (ed25519.PublicKey, error) {
	b, err := safefile.ReadFile(path, safefile.SmallLimit)
	if err != nil {
		return nil, fmt.Errorf("--pubkey: %v", err)
	}
	blk, _ := pem.Decode(b)
	if blk == nil {
		return nil, fmt.Errorf("--pubkey %s: not a PEM file", path)
	}
	k, err := x509.ParsePKIXPublicKey(blk.Bytes)
	if err != nil {
		return nil, fmt.Errorf("--pubkey %s: %v", path, err)
	}
	pub, ok := k.(ed25519.PublicKey)
	if !ok {
		return nil, fmt.Errorf("--pubkey %s: not an Ed25519 key", path)
	}
	return pub, nil
}

const verifyHelp = `Usage: pacheck verify [--pubkey FILE] [--out DIR] BUNDLE

Checks every file of an evidence bundle against its manifest's SHA-256 (and the Ed25519
signature with --pubkey), then re-renders index.html offline from results.json into --out.
Reading is bounded (entries, inflated sizes, path depth; no links, absolute paths or ".."), and
--out is written only when every check passed: a tampered bundle leaves nothing behind.
Without --pubkey only the hashes are checked, and the output says whether the bundle is signed
(a signature it did not check proves nothing) or unsigned (anyone could have written it).
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
		var err error
		if pub, err = readPublicKey(*pubPath); err != nil {
			errorf(stderr, "verify", "%v", err)
			return ExitUsage
		}
	}
	// Only a regular file: a FIFO or device fails here, at once.
	bf, _, err := safefile.Open(fs.Arg(0))
	if err != nil {
		errorf(stderr, "verify", "%v", err)
		return ExitUsage
	}
	bf.Close()
	if *out != "" {
		if entries, err := os.ReadDir(*out); err == nil && len(entries) > 0 {
			errorf(stderr, "verify", "--out %s is not empty: give a new or empty folder", *out)
			return ExitUsage
		}
	}
	var res *reports.Results
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
	fmt.Fprintf(stdout, "%s: intact (%d specs, verdict %s); %s\n", fs.Arg(0), res.Counts.Total, res.Verdict, sealText(res.Seal))
	if *out != "" {
		fmt.Fprintf(stdout, "re-rendered: %s/index.html\n", *out)
	}
	return ExitOK
}

// sealText says plainly what the check proved of the bundle's origin.
func sealText(s *reports.Seal) string {
	switch {
	case s == nil:
		return "signature unknown"
	case s.SignatureChecked:
		return "signature valid for the given public key"
	case s.Signed:
		return "signed, but the signature was NOT checked: give --pubkey to check who signed it"
	default:
		return "UNSIGNED: the hashes only prove the files match the manifest, not who wrote them"
	}
}

// runReportPDF prints an existing report folder's index.html to report.pdf.
func runReportPDF(ctx context.Context, dir string, stdout, stderr io.Writer) int {
	st, err := os.Stat(filepath.Join(dir, reports.FileHTML))
	if err != nil || !st.Mode().IsRegular() {
		errorf(stderr, "report", "%s has no %s: give a report folder", dir, reports.FileHTML)
		return ExitUsage
	}
	out, err := writePDF(ctx, dir)
	if err != nil {
		errorf(stderr, "report", "%v", err)
		return ExitEnvError
	}
	fmt.Fprintf(stdout, "pdf: %s\n", out)
	return ExitOK
}
