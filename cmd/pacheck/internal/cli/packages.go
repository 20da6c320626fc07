package cli

import (
	"context"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/pacheck/pacheck/profiles"
	"github.com/pacheck/pacheck/profiles/registry"
)

func init() {
	register(&command{name: "packages", summary: "install FHIR packages from a registry into the package cache, list them", run: runPackages})
}

const packagesHelp = `Usage: pacheck packages install [--registry URL] [--cache DIR] [--no-deps] ID#VERSION...
       pacheck packages list [--cache DIR]

install downloads each package and the packages it depends on (transitively) from a FHIR package
registry into the standard package cache (~/.fhir/packages, or $FHIR_PACKAGE_CACHE), where
'--package ID#VERSION' and 'pacheck validate --ig ID#VERSION' find them. A tarball is written
to the cache only when its SHA-1 matches the registry's, it is a FHIR package, and its
package.json names the id and version asked for; a package already cached is left as it is.
A dependency the registry does not have is reported and skipped (validation then warns about
what it would have defined).
list prints the packages in the cache.
Exit: 0 installed, 2 usage, 3 a package asked for could not be installed (registry, network,
checksum).

Examples:
  pacheck packages install hl7.fhir.us.core#7.0.0
  pacheck packages install --registry https://packages2.fhir.org/packages hl7.fhir.us.carin-bb#2.1.0
  pacheck packages list

Flags:
`

func runPackages(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlags("packages", packagesHelp, stdout)
	reg := fs.String("registry", envOr("PACHECK_FHIR_REGISTRY", registry.DefaultURL), "FHIR package registry base URL (env PACHECK_FHIR_REGISTRY)")
	cache := fs.String("cache", profiles.CacheDir(), "package cache folder")
	noDeps := fs.Bool("no-deps", false, "install only the packages named, not their dependencies")
	timeout := fs.Duration("timeout", 10*time.Minute, "give up after this long")
	if len(args) == 0 || (args[0] != "install" && args[0] != "list") {
		if len(args) > 0 && (args[0] == "-h" || args[0] == "--help") {
			fs.Usage()
			return ExitOK
		}
		errorf(stderr, "packages", "expected 'install ID#VERSION…' or 'list' (see 'pacheck help packages')")
		return ExitUsage
	}
	sub := args[0]
	if code, ok := parse(fs, args[1:], stderr); !ok {
		return code
	}
	if sub == "list" {
		if fs.NArg() != 0 {
			errorf(stderr, "packages", "list takes no arguments")
			return ExitUsage
		}
		refs, err := registry.Installed(*cache)
		if err != nil {
			errorf(stderr, "packages", "%v", err)
			return ExitEnvError
		}
		if len(refs) == 0 {
			fmt.Fprintf(stdout, "no packages in %s\n", *cache)
		}
		for _, r := range refs {
			fmt.Fprintln(stdout, r)
		}
		return ExitOK
	}
	if fs.NArg() == 0 {
		errorf(stderr, "packages", "install: name at least one package ID#VERSION")
		return ExitUsage
	}
	for _, r := range fs.Args() {
		if _, _, ok := profiles.ParseRef(r); !ok {
			errorf(stderr, "packages", "%q is not a package reference ID#VERSION (e.g. hl7.fhir.us.core#6.1.0)", r)
			return ExitUsage
		}
	}
	ictx, cancel := context.WithTimeout(ctx, *timeout)
	defer cancel()
	c := &registry.Client{Registry: *reg, Cache: *cache, NoDeps: *noDeps}
	res, err := c.Install(ictx, fs.Args()...)
	for _, r := range res {
		what := ""
		if r.Dependency {
			what = " (dependency)"
		}
		switch r.Status {
		case "failed":
			if r.Dependency {
				fmt.Fprintln(stdout, termSafe(fmt.Sprintf("warning: %s%s not installed: %v", r.Ref, what, r.Err), false))
			}
		default:
			fmt.Fprintf(stdout, "%-9s %s%s → %s\n", r.Status, r.Ref, what, r.Dir)
		}
	}
	if err != nil {
		errorf(stderr, "packages", "%v", err)
		return ExitEnvError
	}
	return ExitOK
}

func envOr(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}
