package profiles

import (
	"errors"
	"fmt"
	"sync"

	"github.com/pacheck/pacheck/profiles/snapshot"
)

// snapshotMu serialises snapshot generation: the embedded packages' resources are shared by
// every Set made from them.
var snapshotMu sync.Mutex

// generateSnapshots gives every StructureDefinition of the set that has only a differential a
// snapshot generated from its base, resolved in its own package's context, so that the validator
// and the suites read it from Raw like a published one. A failure is kept in SnapshotErr and
// tried again when another package (perhaps the missing base) is added.
func (s *Set) generateSnapshots() {
	snapshotMu.Lock()
	defer snapshotMu.Unlock()
	for _, p := range s.Packages() {
		var gen *snapshot.Generator
		for _, r := range p.Resources {
			if !r.noSnapshot || r.SnapshotGenerated {
				continue
			}
			if gen == nil {
				ctx, err := s.Context(p.Ref())
				if err != nil {
					ctx = s.Global()
				}
				gen = snapshot.New(func(canonical string) ([]byte, bool) {
					b, ok := ctx.ResolveType("StructureDefinition", canonical)
					if !ok {
						return nil, false
					}
					return b.Raw, true
				})
			}
			out, err := gen.Generate(r.Raw)
			if err != nil {
				r.SnapshotErr = snapshotError(err)
				continue
			}
			r.Raw, r.SnapshotGenerated, r.SnapshotErr = out, true, nil
		}
	}
}

// snapshotError words a generation failure for a message that already names the profile.
func snapshotError(err error) error {
	var ge *snapshot.Error
	if errors.As(err, &ge) && ge.Element != "" {
		return fmt.Errorf("generating it from the differential failed at element %s: %s", ge.Element, ge.Msg)
	}
	if errors.As(err, &ge) {
		return fmt.Errorf("generating it from the differential failed: %s", ge.Msg)
	}
	return fmt.Errorf("generating it from the differential failed: %w", err)
}
