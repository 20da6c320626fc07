// Command officialgen writes profiles/requirements/official/mapping.yaml from the IGs' requirement
// lists in $PACHECK_SHARED/requirements (default ../shared) and the committed rules.yaml.
//
//	PACHECK_SHARED=/path/to/shared go generate ./profiles/requirements/official
package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"

	"github.com/pacheck/pacheck/profiles/requirements/official"
)

func main() {
	out := flag.String("out", "mapping.yaml", "mapping file to write (go generate runs in profiles/requirements/official)")
	flag.Parse()
	shared := os.Getenv("PACHECK_SHARED")
	if shared == "" {
		fmt.Fprintln(os.Stderr, "officialgen: set PACHECK_SHARED to the shared folder (holding requirements/)")
		os.Exit(2)
	}
	if err := run(filepath.Join(shared, "requirements"), *out); err != nil {
		fmt.Fprintln(os.Stderr, "officialgen:", err)
		os.Exit(1)
	}
}

func run(dir, out string) error {
	rules, err := official.EmbeddedRules()
	if err != nil {
		return err
	}
	m, err := official.Generate(dir, rules)
	if err != nil {
		return err
	}
	data, err := official.Marshal(m)
	if err != nil {
		return err
	}
	if err := os.WriteFile(out, data, 0o644); err != nil {
		return fmt.Errorf("write %s: %w", out, err)
	}
	for _, s := range m.Sets {
		c := s.Count()
		fmt.Printf("%-40s %4d server rows: %d tested, %d attested, %d explained, %d unmapped (Inferno links %d)\n",
			s.Set, c.Total, c.Tested, c.Attested, c.Explained, c.Unmapped, s.InfernoLinked)
	}
	return nil
}
