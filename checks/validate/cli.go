package validate

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"sync"

	"github.com/pacheck/pacheck/checks/issue"
	"github.com/pacheck/pacheck/internal/safefile"
	"github.com/pacheck/pacheck/profiles"
)

type multiFlag []string

func (m *multiFlag) String() string     { return strings.Join(*m, ",") }
func (m *multiFlag) Set(s string) error { *m = append(*m, s); return nil }

// RunCLI is `pacheck validate`: it validates FILE|DIR... and prints the results. Exit status 0
// when no resource has errors, 1 when some do, 2 when the flags or the input are unusable (one
// line on stderr saying what and what to do).
func RunCLI(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("validate", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var profs, igs, pkgs multiFlag
	fs.Var(&profs, "profile", "validate against this profile canonical (url or url|version) as well as meta.profile; repeatable")
	fs.Var(&igs, "ig", "package context id#version in which profiles resolve (e.g. hl7.fhir.us.core#6.1.0); repeatable: the first that is loaded is used")
	fs.Var(&pkgs, "package", "add a FHIR package (.tgz, package folder, or id#version from ~/.fhir/packages); repeatable")
	format := fs.String("format", "text", "output format: "+strings.Join(Formats, " | "))
	workers := fs.Int("j", runtime.GOMAXPROCS(0), "parallel validations")
	jsonSchema := fs.Bool("json-schema", false, "check the structural rules with jsonschema/v5 and the generated R4 schema (same findings, slower)")
	var extDomains multiFlag
	fs.Var(&extDomains, "allowed-extension-domain", "allow extensions without a loaded definition from this host (acme.org, subdomains too), URL prefix, or 'any'; otherwise they are errors, except example domains; repeatable")
	maxRes := byteSize(DefaultMaxResourceBytes)
	fs.Var(&maxRes, "max-resource-bytes", "largest resource read: a JSON file, an NDJSON line or an entry of a large Bundle (e.g. 64MiB, 1GiB); Bundles over 16 MiB are validated entry by entry")
	output := fs.String("output", "", "write the results to FILE instead of stdout (format: --format, else by name: *.oo.json OperationOutcome Bundle, *.json json, other text); written atomically")
	htmlOutput := fs.String("html-output", "", "also write a human HTML page of the issues per file to FILE")
	tx := fs.String("tx", "", "FHIR R4 terminology server base URL asked (ValueSet/$validate-code) about codes in value sets pacheck cannot expand offline; n/a or empty: none")
	bestPractice := fs.String("best-practice", string(BestPracticeWarning), "level of best-practice invariants (dom-6...): ignore | hint | warning | error")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: pacheck validate [--profile URL]... [--ig id#version]... [--package FILE|DIR]... [--format text|json|operationoutcome] [--output FILE] [--html-output FILE] [--best-practice LEVEL] [--tx URL] FILE|DIR...")
		fs.PrintDefaults()
	}
	fail := func(format string, a ...any) int {
		fmt.Fprintf(stderr, "pacheck validate: "+format+"\n", a...)
		return 2
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if fs.NArg() == 0 {
		return fail("no input: give one or more FILE|DIR (JSON, NDJSON, or folders of them)")
	}
	bw := bufio.NewWriterSize(stdout, 64<<10)
	defer bw.Flush()
	out, files, err := cliFormatters(fs, bw, *format, *output, *htmlOutput)
	if err != nil {
		return fail("%v", err)
	}
	defer func() {
		for _, f := range files {
			f.abort() // no-op once committed
		}
	}()
	set, err := profiles.Embedded()
	if err != nil {
		return fail("%v", err)
	}
	for _, p := range pkgs {
		pkg, err := profiles.Load(p, profiles.LoadOptions{})
		if err != nil {
			return fail("--package: %v", err)
		}
		set.Add(pkg)
	}
	// An --ig that is neither embedded nor given with --package comes from the package cache
	// (pacheck packages install), with the dependencies the cache holds.
	for _, x := range igs {
		if _, _, ok := profiles.ParseRef(x); ok {
			if _, found := set.Package(x); !found {
				// not cached: the scope check below says so, naming the ways to get it
				if _, err := set.AddFromCache(x, profiles.LoadOptions{}); err != nil && !errors.Is(err, profiles.ErrNotCached) {
					return fail("--ig: %v", err)
				}
			}
		}
	}
	bp, err := ParseBestPractice(*bestPractice)
	if err != nil {
		return fail("--best-practice: %v", err)
	}
	opts := Options{JSONSchema: *jsonSchema, BestPractice: bp}
	if *tx != "" && *tx != "n/a" {
		c, err := NewTxClient(*tx, TxOptions{})
		if err != nil {
			return fail("--tx: %v", err)
		}
		opts.Terminology = c
	}
	v, err := New(set, opts)
	if err != nil {
		return fail("%v", err)
	}
	ig := ""
	for _, x := range igs {
		if _, _, ok := profiles.ParseRef(x); !ok {
			if _, found := set.Package(x); !found {
				return fail("--ig %s: expected id#version, e.g. hl7.fhir.us.core#6.1.0", x)
			}
		}
		if _, err := v.scope(x); err != nil {
			if ig == "" && x == igs[len(igs)-1] {
				return fail("%v (load it with --package FILE.tgz, or install it into the package cache with 'pacheck packages install %s')", err, x)
			}
			continue
		}
		if ig == "" {
			ig = x
		}
	}
	for _, p := range profs {
		if !isCanonical(p) {
			return fail("--profile %q: expected a canonical URI (url or url|version; urn:oid: and urn:uuid: too) such as http://hl7.org/fhir/us/core/StructureDefinition/us-core-patient", p)
		}
	}
	// unknown extensions are errors, as in the HL7 Java validator CLI (ValidateOptions)
	vo := ValidateOptions{Profiles: profs, IG: ig, RejectUnknownExtensions: true, AllowedExtensionDomains: extDomains}

	// Validate in parallel, print in input order, with bounded memory.
	if *workers < 1 {
		*workers = 1
	}
	type job struct {
		in  cliInput
		res chan FileResult
	}
	jobs := make(chan job, *workers*4)
	order := make(chan chan FileResult, *workers*16)
	var wg sync.WaitGroup
	for range *workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range jobs {
				j.res <- validateCLIInput(ctx, v, j.in, vo)
			}
		}()
	}
	var readErr error
	go func() {
		ir := inputReader{limit: int64(maxRes), stream: streamThreshold}
		readErr = ir.readAll(fs.Args(), func(in cliInput) error {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			c := make(chan FileResult, 1)
			order <- c
			jobs <- job{in: in, res: c}
			return nil
		})
		close(jobs)
		close(order)
	}()
	var sum Summary
	var writeErr error
	for c := range order {
		r := <-c
		sum.Add(r)
		if writeErr == nil {
			writeErr = out.Result(r)
		}
	}
	wg.Wait()
	if readErr != nil && !errors.Is(readErr, context.Canceled) {
		bw.Flush()
		return fail("%v", readErr)
	}
	if err := out.Close(sum); err != nil || writeErr != nil {
		return fail("writing the output: %v", errors.Join(err, writeErr))
	}
	if sum.Files == 0 {
		bw.Flush()
		return fail("no *.json or *.ndjson resources found in %s", strings.Join(fs.Args(), " "))
	}
	for _, f := range files {
		if err := f.commit(); err != nil {
			return fail("%v", err)
		}
	}
	if sum.Errors > 0 {
		return 1
	}
	return 0
}

// validateCLIInput validates one input; for a streamed Bundle it puts entry issues at their
// Bundle paths and drops what the stub resources caused.
func validateCLIInput(ctx context.Context, v *Validator, in cliInput, vo ValidateOptions) FileResult {
	if in.xml {
		return validateXML(ctx, v, in.Input, vo)
	}
	if in.syntax != "" {
		return FileResult{Path: in.Path, Issues: issue.List{{Severity: issue.Error, Rule: ruleSyntax, Message: in.syntax}}}
	}
	if in.entry >= 0 {
		// --profile names what the file is; an entry is judged by its own meta.profile.
		evo := vo
		evo.Profiles = nil
		r := validateInput(ctx, v, in.Input, evo)
		for i := range r.Issues {
			r.Issues[i].Path = entryPath(in.entry, r.ResourceType, r.Issues[i].Path)
		}
		return r
	}
	if in.shell != nil {
		return validateShell(ctx, v, in.Path, in.shell, vo)
	}
	return validateInput(ctx, v, in.Input, vo)
}

// byteSize is a flag value in bytes: 1048576, 512KiB, 64MiB, 1GiB.
type byteSize int64

func (b *byteSize) String() string { return safefile.Bytes(int64(*b)) }

func (b *byteSize) Set(s string) error {
	num, mul := strings.TrimSpace(s), int64(1)
	for _, u := range []struct {
		suffix string
		mul    int64
	}{{"KiB", 1 << 10}, {"MiB", 1 << 20}, {"GiB", 1 << 30}, {"KB", 1 << 10}, {"MB", 1 << 20}, {"GB", 1 << 30}, {"B", 1}} {
		if strings.HasSuffix(num, u.suffix) {
			num, mul = strings.TrimSpace(strings.TrimSuffix(num, u.suffix)), u.mul
			break
		}
	}
	n, err := strconv.ParseInt(num, 10, 64)
	if err != nil || n < 1 || n > (1<<40)/mul {
		return fmt.Errorf("%q is not a size such as 64MiB or 1GiB", s)
	}
	*b = byteSize(n * mul)
	return nil
}

func validateInput(ctx context.Context, v *Validator, in Input, vo ValidateOptions) FileResult {
	if in.Err != nil {
		return FileResult{Path: in.Path, Issues: issue.List{{Severity: issue.Error, Rule: "input", Message: in.Err.Error()}}}
	}
	r := v.Validate(ctx, in.Raw, vo)
	return FileResult{Path: in.Path, ResourceType: r.ResourceType, Profiles: r.Profiles, Issues: r.Issues}
}

// Input bounds of `pacheck validate`.
const (
	// DefaultMaxResourceBytes bounds one resource: a JSON file, an NDJSON line, or one entry of a
	// streamed Bundle (--max-resource-bytes).
	DefaultMaxResourceBytes = 64 << 20
	// StreamBundleBytes: a Bundle file larger than this (or than the resource bound, if lower) is
	// validated entry by entry, so memory follows the largest entry, not the file.
	StreamBundleBytes = 16 << 20
)

// streamThreshold is StreamBundleBytes; tests lower it to stream small Bundles.
var streamThreshold int64 = StreamBundleBytes

// cliInput is one unit of work: a resource, or the streamed Bundle's own elements.
type cliInput struct {
	Input
	entry  int          // >= 0: the Bundle entry whose resource Raw is (issue paths are prefixed)
	shell  *shellBundle // a streamed Bundle's own elements
	syntax string       // non-empty: the streamed file is not valid JSON; the message
	xml    bool         // Raw is FHIR XML, converted before validation
}

// inputReader reads `pacheck validate` inputs: regular files only, each resource bounded.
type inputReader struct {
	limit  int64
	stream int64
}

func (ir inputReader) readAll(paths []string, fn func(cliInput) error) error {
	for _, p := range paths {
		st, err := os.Stat(p)
		if err != nil {
			return fmt.Errorf("%s: %w", p, ErrNoInput)
		}
		if !st.IsDir() {
			if err := ir.readFile(p, fn); err != nil {
				return err
			}
			continue
		}
		files, err := folderInputs(p)
		if err != nil {
			return err
		}
		for _, f := range files {
			if err := ir.readFile(f, fn); err != nil {
				return err
			}
		}
	}
	return nil
}

func inputErr(path string, err error) cliInput {
	return cliInput{Input: Input{Path: path, Err: err}, entry: -1}
}

func (ir inputReader) tooLarge(path string, size int64, what string) error {
	if size >= 0 {
		return fmt.Errorf("%s is %d bytes, over the %s limit for %s; split it (e.g. as NDJSON) or raise --max-resource-bytes", filepath.Base(path), size, safefile.Bytes(ir.limit), what)
	}
	return fmt.Errorf("%s is over the %s limit for %s; split it (e.g. as NDJSON) or raise --max-resource-bytes", filepath.Base(path), safefile.Bytes(ir.limit), what)
}

func (ir inputReader) readFile(path string, fn func(cliInput) error) error {
	// safefile.Open refuses devices, FIFOs and sockets without blocking on them.
	f, st, err := safefile.Open(path)
	if err != nil {
		var pe *fs.PathError
		if errors.As(err, &pe) {
			err = pe.Err
		}
		return fn(inputErr(path, fmt.Errorf("cannot open: %w", err)))
	}
	defer f.Close()
	if strings.HasSuffix(path, ".ndjson") {
		return ir.readNDJSON(f, path, fn)
	}
	if st.Size() > min(ir.stream, ir.limit) && !isXMLName(path) {
		// A syntax error after resourceType (a cut-off file) is reported by the stream itself.
		rt, _ := topResourceType(bufio.NewReaderSize(f, 64<<10))
		if rt == "Bundle" {
			if _, err := f.Seek(0, io.SeekStart); err != nil {
				return fn(inputErr(path, fmt.Errorf("cannot read: %w", err)))
			}
			return ir.streamBundle(f, path, st.Size(), fn)
		}
		if _, err := f.Seek(0, io.SeekStart); err != nil {
			return fn(inputErr(path, fmt.Errorf("cannot read: %w", err)))
		}
	}
	if st.Size() > ir.limit {
		return fn(inputErr(path, ir.tooLarge(path, st.Size(), "one resource")))
	}
	b, err := io.ReadAll(io.LimitReader(f, ir.limit+1))
	if err != nil {
		return fn(inputErr(path, fmt.Errorf("cannot read: %w", err)))
	}
	if int64(len(b)) > ir.limit {
		return fn(inputErr(path, ir.tooLarge(path, -1, "one resource")))
	}
	if len(bytes.TrimSpace(b)) == 0 {
		return fn(inputErr(path, errors.New("file is empty")))
	}
	xml := isXMLName(path) || looksLikeXML(b)
	return fn(cliInput{Input: Input{Path: path, Raw: b}, entry: -1, xml: xml})
}

func (ir inputReader) readNDJSON(r io.Reader, path string, fn func(cliInput) error) error {
	br := bufio.NewReaderSize(r, 1<<20)
	line := 0
	var buf []byte
	for {
		chunk, err := br.ReadSlice('\n')
		if int64(len(buf)+len(chunk)) > ir.limit {
			line++
			if e := fn(inputErr(fmt.Sprintf("%s:%d", path, line), fmt.Errorf("line is over the %s limit for one resource; raise --max-resource-bytes", safefile.Bytes(ir.limit)))); e != nil {
				return e
			}
			for err == bufio.ErrBufferFull {
				_, err = br.ReadSlice('\n')
			}
			buf = buf[:0]
			if err == io.EOF {
				return nil
			}
			if err != nil {
				return fn(inputErr(fmt.Sprintf("%s:%d", path, line+1), fmt.Errorf("cannot read: %w", err)))
			}
			continue
		}
		buf = append(buf, chunk...)
		if err == bufio.ErrBufferFull {
			continue
		}
		if len(buf) > 0 || err == nil {
			line++
			if t := bytes.TrimSpace(buf); len(t) > 0 {
				if e := fn(cliInput{Input: Input{Path: fmt.Sprintf("%s:%d", path, line), Raw: bytes.Clone(t)}, entry: -1}); e != nil {
					return e
				}
			}
			buf = buf[:0]
		}
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return fn(inputErr(fmt.Sprintf("%s:%d", path, line+1), fmt.Errorf("cannot read: %w", err)))
		}
	}
}

// streamBundle validates a large Bundle entry by entry: each entry's resource is its own input
// (path:entry[i]); then the Bundle itself is one more input, in which each entry's resource is a
// stub keeping what Bundle rules read (resourceType, meta.versionId). Memory follows the largest
// entry and the stubs' bytes, not the file.
func (ir inputReader) streamBundle(f io.Reader, path string, size int64, fn func(cliInput) error) error {
	sc := &jsonScanner{r: bufio.NewReaderSize(f, 256<<10)}
	sh := &shellBundle{note: fmt.Sprintf("streamed: the Bundle is %d bytes, over %s, so each entry's resource was validated on its own (results %s:entry[i]) and the Bundle's own rules in windows of %d entries; not evaluated: references between entries (their resolution and target profiles), rules across windows (fullUrl uniqueness, entry counts) and Bundle profile slices that look inside entry resources",
		size, safefile.Bytes(min(ir.stream, ir.limit)), filepath.Base(path), shellWindow)}
	var head bytes.Buffer
	var fnErr error
	err := sc.object(&head, ir.limit, func(key string) bool {
		// A second "entry" stays in head, so the windows carry the duplicate key and the
		// validator reports it as it would for the whole file.
		if key == "entry" && !sh.hasEntry {
			sh.hasEntry = true
			return true
		}
		return false
	}, func(raw []byte, tooBig bool) bool {
		i := sh.count()
		if tooBig {
			sh.add([]byte(`{}`))
			fnErr = fn(inputErr(fmt.Sprintf("%s:entry[%d]", path, i), fmt.Errorf("entry is over the %s limit for one resource; raise --max-resource-bytes", safefile.Bytes(ir.limit))))
			return fnErr == nil
		}
		stub, res := splitEntry(raw)
		sh.add(stub)
		if res != nil {
			fnErr = fn(cliInput{Input: Input{Path: fmt.Sprintf("%s:entry[%d]", path, i), Raw: res}, entry: i})
		}
		return fnErr == nil
	})
	if fnErr != nil {
		return fnErr
	}
	if err != nil {
		return fn(cliInput{Input: Input{Path: path}, entry: -1, syntax: "not valid JSON: " + err.Error()})
	}
	sh.head = head.Bytes()
	return fn(cliInput{Input: Input{Path: path}, entry: -1, shell: sh})
}

// shellWindow is how many stub entries one validation of a streamed Bundle's own rules holds.
const shellWindow = 500

// shellBundle is a streamed Bundle without its entry resources.
type shellBundle struct {
	head     []byte // the top-level object without its entry member
	hasEntry bool   // the Bundle has an entry array
	// stubs holds each entry, its resource replaced by a stub, back to back; ends[i] is where
	// entry i ends (one buffer, not a slice per entry: a Bundle of empty entries stays small).
	stubs bytes.Buffer
	ends  []int
	note  string
}

func (sh *shellBundle) add(stub []byte) {
	sh.stubs.Write(stub)
	sh.ends = append(sh.ends, sh.stubs.Len())
}

func (sh *shellBundle) count() int { return len(sh.ends) }

func (sh *shellBundle) stub(i int) []byte {
	start := 0
	if i > 0 {
		start = sh.ends[i-1]
	}
	return sh.stubs.Bytes()[start:sh.ends[i]]
}

// windows yields the Bundle as JSON with a window of entries each time. Windows after the first
// also start with entry 0, so rules on the first entry (document, message) hold; first is the
// index in the Bundle of the window's second entry then.
func (sh *shellBundle) windows(yield func(raw []byte, first int, lead bool) bool) {
	open := sh.head[:len(sh.head)-1] // without the closing brace
	sep := ""
	if len(bytes.TrimSpace(open)) > 1 {
		sep = ","
	}
	if !sh.hasEntry {
		yield(sh.head, 0, false)
		return
	}
	for start := 0; start == 0 || start < sh.count(); start += shellWindow {
		var b bytes.Buffer
		b.Write(open)
		b.WriteString(sep + `"entry":[`)
		lead := start > 0
		if lead {
			b.Write(sh.stub(0))
		}
		for i := start; i < min(start+shellWindow, sh.count()); i++ {
			if i > start || lead {
				b.WriteByte(',')
			}
			b.Write(sh.stub(i))
		}
		b.WriteString("]}")
		if !yield(b.Bytes(), start, lead) {
			return
		}
	}
}

var entryIndex = regexp.MustCompile(`^Bundle\.entry\[(\d+)\]`)

// validateShell validates a streamed Bundle's own rules window by window, keeping each issue once
// at its path in the whole Bundle and dropping those the stubs cause.
func validateShell(ctx context.Context, v *Validator, path string, sh *shellBundle, vo ValidateOptions) FileResult {
	out := FileResult{Path: path}
	seen := map[string]bool{}
	sh.windows(func(raw []byte, first int, lead bool) bool {
		r := v.Validate(ctx, raw, vo)
		if out.ResourceType == "" {
			out.ResourceType, out.Profiles = r.ResourceType, r.Profiles
		}
		for _, is := range r.Issues {
			if stubIssue.MatchString(is.Path) {
				continue
			}
			if m := entryIndex.FindStringSubmatchIndex(is.Path); m != nil {
				j, _ := strconv.Atoi(is.Path[m[2]:m[3]])
				if lead {
					if j == 0 {
						continue // entry 0, repeated: reported with the first window
					}
					j--
				}
				is.Path = fmt.Sprintf("Bundle.entry[%d]", first+j) + is.Path[m[1]:]
			}
			key := string(is.Severity) + "\x00" + is.Rule + "\x00" + is.Path + "\x00" + is.Message
			if seen[key] {
				continue
			}
			seen[key] = true
			out.Issues = append(out.Issues, is)
		}
		return ctx.Err() == nil
	})
	out.Issues = append(out.Issues, issue.Issue{Severity: issue.Information, Rule: "streamed", Path: "Bundle", Message: sh.note})
	return out
}

// splitEntry returns the entry with its resource replaced by a stub, and the resource.
func splitEntry(raw []byte) (stub, resource []byte) {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(raw, &m); err != nil {
		return raw, nil // the Bundle validation reports what is wrong with it
	}
	res, ok := m["resource"]
	if !ok {
		return raw, nil
	}
	var head struct {
		ResourceType any `json:"resourceType"`
		Meta         *struct {
			VersionID any `json:"versionId"`
		} `json:"meta"`
	}
	if json.Unmarshal(res, &head) != nil || head.ResourceType == nil {
		return raw, nil // not an object, or no resourceType: validated in place
	}
	s := map[string]any{"resourceType": head.ResourceType}
	if head.Meta != nil && head.Meta.VersionID != nil {
		s["meta"] = map[string]any{"versionId": head.Meta.VersionID}
	}
	sb, _ := json.Marshal(s)
	m["resource"] = sb
	stub, err := json.Marshal(m)
	if err != nil {
		return raw, nil
	}
	return stub, res
}

// stubIssue matches issues inside a stub resource of a streamed Bundle: they describe the stub.
var stubIssue = regexp.MustCompile(`^Bundle\.entry\[\d+\]\.resource\.ofType\(`)

// entryPath rewrites an issue path of a standalone entry resource ("Observation.code") to the
// path it has inside the Bundle ("Bundle.entry[3].resource.ofType(Observation).code").
func entryPath(i int, rt, p string) string {
	prefix := fmt.Sprintf("Bundle.entry[%d].resource.ofType(%s)", i, rt)
	switch {
	case rt == "":
		return p
	case p == "" || p == rt:
		return prefix
	case strings.HasPrefix(p, rt) && (p[len(rt)] == '.' || p[len(rt)] == '['):
		return prefix + p[len(rt):]
	case strings.HasPrefix(p, "."):
		return prefix + p
	}
	return p
}

// topResourceType reads the top-level object's keys (skipping values) and returns the value of
// resourceType, without holding more than that string.
func topResourceType(r *bufio.Reader) (string, error) {
	sc := &jsonScanner{r: r}
	rt := ""
	err := sc.object(nil, 1<<10, nil, nil, func(key string, val []byte) {
		if key == "resourceType" {
			var s string
			if json.Unmarshal(val, &s) == nil {
				rt = s
			}
		}
	})
	return rt, err
}

// jsonScanner finds the bounds of JSON values in a stream without decoding them; the validator
// decodes (and judges) what it returns.
type jsonScanner struct {
	r   *bufio.Reader
	off int64
}

var (
	errValueTooLarge = errors.New("value too large")
	errEOF           = errors.New("unexpected end of file")
)

func (s *jsonScanner) fail(format string, a ...any) error {
	return fmt.Errorf("%s at byte %d", fmt.Sprintf(format, a...), s.off)
}

func (s *jsonScanner) eof() error { return fmt.Errorf("%w at byte %d", errEOF, s.off) }

func (s *jsonScanner) next() (byte, error) {
	c, err := s.r.ReadByte()
	if err == nil {
		s.off++
	} else if err == io.EOF {
		return 0, s.eof()
	}
	return c, err
}

func (s *jsonScanner) peek() (byte, error) {
	for {
		b, err := s.r.Peek(1)
		if err != nil {
			if err == io.EOF {
				return 0, s.eof()
			}
			return 0, err
		}
		switch b[0] {
		case ' ', '\t', '\n', '\r':
			s.r.ReadByte()
			s.off++
			continue
		}
		return b[0], nil
	}
}

// value reads one JSON value into buf (when not nil) as long as it stays within limit bytes;
// a longer value is consumed to its end and reported as errValueTooLarge.
func (s *jsonScanner) value(buf *bytes.Buffer, limit int64) error {
	c, err := s.peek()
	if err != nil {
		return err
	}
	var n int64
	big := false
	put := func(b byte) {
		if buf == nil {
			return // skipping: nothing is kept, so nothing to bound
		}
		n++
		if n > limit {
			big = true
		}
		if buf != nil && !big {
			buf.WriteByte(b)
		}
	}
	switch {
	case c == '{' || c == '[':
		depth := 0
		inStr, esc := false, false
		for {
			b, err := s.next()
			if err != nil {
				return err
			}
			put(b)
			switch {
			case inStr:
				if esc {
					esc = false
				} else if b == '\\' {
					esc = true
				} else if b == '"' {
					inStr = false
				}
			case b == '"':
				inStr = true
			case b == '{' || b == '[':
				depth++
			case b == '}' || b == ']':
				depth--
				if depth == 0 {
					if big {
						return errValueTooLarge
					}
					return nil
				}
			}
		}
	case c == '"':
		s.next()
		put('"')
		esc := false
		for {
			b, err := s.next()
			if err != nil {
				return err
			}
			put(b)
			if esc {
				esc = false
			} else if b == '\\' {
				esc = true
			} else if b == '"' {
				break
			}
		}
	case c == '-' || (c >= '0' && c <= '9') || c == 't' || c == 'f' || c == 'n':
		for {
			b, err := s.r.Peek(1)
			if err != nil || strings.IndexByte(" \t\r\n,]}", b[0]) >= 0 {
				break
			}
			s.r.ReadByte()
			s.off++
			put(b[0])
		}
	default:
		return s.fail("unexpected %q", c)
	}
	if big {
		return errValueTooLarge
	}
	return nil
}

// object reads the top-level JSON object. Members go to out (when not nil) verbatim, except a
// key that stream(key) selects whose value is an array: each of its elements goes to element
// instead (tooBig for one over limit), and the member is left out of out. member, when given,
// sees every other member's key and value.
func (s *jsonScanner) object(out *bytes.Buffer, limit int64, stream func(string) bool, element func(raw []byte, tooBig bool) bool, member ...func(key string, val []byte)) error {
	c, err := s.peek()
	if err != nil {
		return err
	}
	if c != '{' {
		return s.fail("expected a JSON object, found %q", c)
	}
	s.next()
	w := func(b ...byte) {
		if out != nil {
			out.Write(b)
		}
	}
	w('{')
	first := true
	written := 0
	for {
		c, err := s.peek()
		if err != nil {
			return err
		}
		if c == '}' && first {
			s.next()
			w('}')
			return s.end()
		}
		if c != '"' {
			return s.fail("expected a member name, found %q", c)
		}
		var kb bytes.Buffer
		if err := s.value(&kb, 1<<10); err != nil {
			if errors.Is(err, errValueTooLarge) {
				return s.fail("member name over 1 KiB")
			}
			return err
		}
		var key string
		if err := json.Unmarshal(kb.Bytes(), &key); err != nil {
			return s.fail("bad member name")
		}
		if c, err = s.peek(); err != nil {
			return err
		}
		if c != ':' {
			return s.fail("expected ':', found %q", c)
		}
		s.next()
		first = false
		if c, err = s.peek(); err != nil {
			return err
		}
		if stream != nil && stream(key) && c == '[' {
			// The streamed member goes to element, not to out.
			if err := s.array(limit, element); err != nil {
				return err
			}
		} else {
			if written > 0 {
				w(',')
			}
			written++
			w(kb.Bytes()...)
			w(':')
			var vb bytes.Buffer
			target := &vb
			if out == nil && key != "resourceType" {
				target = nil // only skipping past it
			}
			if err := s.value(target, limit); err != nil {
				if errors.Is(err, errValueTooLarge) {
					return s.fail("member %q is over the %s limit", key, safefile.Bytes(limit))
				}
				return err
			}
			w(vb.Bytes()...)
			if out != nil && int64(out.Len()) > limit {
				return s.fail("the members besides the streamed one are over the %s limit", safefile.Bytes(limit))
			}
			for _, m := range member {
				m(key, vb.Bytes())
			}
		}
		if c, err = s.peek(); err != nil {
			return err
		}
		s.next()
		switch c {
		case ',':
		case '}':
			w('}')
			return s.end()
		default:
			return s.fail("expected ',' or '}', found %q", c)
		}
	}
}

func (s *jsonScanner) array(limit int64, element func([]byte, bool) bool) error {
	s.next() // '['
	c, err := s.peek()
	if err != nil {
		return err
	}
	if c == ']' {
		s.next()
		return nil
	}
	var vb bytes.Buffer
	for {
		vb.Reset()
		err := s.value(&vb, limit)
		tooBig := errors.Is(err, errValueTooLarge)
		if err != nil && !tooBig {
			return err
		}
		if !element(vb.Bytes(), tooBig) {
			return errStopped
		}
		if c, err = s.peek(); err != nil {
			return err
		}
		s.next()
		switch c {
		case ',':
		case ']':
			return nil
		default:
			return s.fail("expected ',' or ']', found %q", c)
		}
	}
}

var errStopped = errors.New("stopped")

// end accepts only white space after the top-level object.
func (s *jsonScanner) end() error {
	_, err := s.peek()
	if err == nil {
		return s.fail("data after the top-level object")
	}
	if errors.Is(err, errEOF) {
		return nil
	}
	return err
}

// cliFormatters builds the formatters of a run: stdout (the format chosen, or only the summary
// when --output takes the results), the --output file and the --html-output page, whose
// temporary files are committed by the caller once the run succeeds.
func cliFormatters(fs *flag.FlagSet, stdout io.Writer, format, output, htmlOutput string) (Formatter, []*atomicFile, error) {
	formatSet := false
	fs.Visit(func(f *flag.Flag) { formatSet = formatSet || f.Name == "format" })
	if _, err := NewFormatter(format, io.Discard); err != nil {
		return nil, nil, fmt.Errorf("--format: %w", err)
	}
	if output != "" && output == htmlOutput {
		return nil, nil, fmt.Errorf("--output and --html-output name the same file %s", output)
	}
	var files []*atomicFile
	abort := func() {
		for _, f := range files {
			f.abort()
		}
	}
	var sinks multiFormatter
	for _, o := range []struct{ flag, path string }{{"--output", output}, {"--html-output", htmlOutput}} {
		if o.path == "" {
			continue
		}
		if err := checkOutputPath(o.path, fs.Args()); err != nil {
			abort()
			return nil, nil, fmt.Errorf("%s: %w", o.flag, err)
		}
		af, err := createAtomic(o.path)
		if err != nil {
			abort()
			return nil, nil, fmt.Errorf("%s: %w", o.flag, err)
		}
		files = append(files, af)
		if o.flag == "--html-output" {
			sinks = append(sinks, newHTMLFormatter(af))
			continue
		}
		f := format
		if !formatSet {
			f = formatForPath(o.path)
		}
		ff, _ := NewFormatter(f, af)
		sinks = append(sinks, ff)
	}
	if output != "" {
		names := []string{output}
		if htmlOutput != "" {
			names = append(names, htmlOutput)
		}
		sinks = append(sinks, &summaryFormatter{w: stdout, files: names})
	} else {
		ff, _ := NewFormatter(format, stdout)
		sinks = append(sinks, ff)
	}
	if len(sinks) == 1 {
		return sinks[0], files, nil
	}
	return sinks, files, nil
}
