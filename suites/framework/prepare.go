package framework

import (
	"context"
	"fmt"
	"sort"
	"sync"
)

// A Preparer does work a suite needs before any spec runs and outside the spec tree, because
// other suites depend on it whichever specs are selected: the SMART launch that yields the access
// token for the data suites is the example. It stores what it learns with Run.SetValue (and
// Run.SetClient); the suite's specs then judge the stored results. An error means the run cannot
// proceed meaningfully for that area; specs that need the missing data report it.
type Preparer struct {
	Area  string // suite area it belongs to (runs when the run wants any of Needs)
	Needs []string
	Order int // lower first
	Do    func(ctx context.Context, r *Run) error
}

var (
	prepMu    sync.Mutex
	preparers []Preparer
)

// RegisterPreparer adds a preparer; suites call it from init().
func RegisterPreparer(p Preparer) {
	prepMu.Lock()
	defer prepMu.Unlock()
	preparers = append(preparers, p)
}

// Prepare runs the preparers the run wants, in order. Errors are collected per area and stored
// as values "prepare-error:<area>" for specs to report; Prepare itself returns the first error
// so the caller can decide whether to go on.
func Prepare(ctx context.Context, r *Run) error {
	prepMu.Lock()
	ps := append([]Preparer(nil), preparers...)
	prepMu.Unlock()
	sort.SliceStable(ps, func(i, j int) bool { return ps[i].Order < ps[j].Order })
	var first error
	for _, p := range ps {
		wanted := r.Wants(p.Area)
		for _, n := range p.Needs {
			wanted = wanted || r.Wants(n)
		}
		if !wanted {
			continue
		}
		if ctx.Err() != nil {
			// interrupted or past the run's deadline: nothing more is prepared
			err := fmt.Errorf("%s: not prepared: %w", p.Area, context.Cause(ctx))
			r.SetValue("prepare-error:"+p.Area, err)
			if first == nil {
				first = err
			}
			continue
		}
		if err := p.Do(ctx, r); err != nil {
			r.SetValue("prepare-error:"+p.Area, err)
			if first == nil {
				first = err
			}
		}
	}
	return first
}

// PrepareError returns the error a preparer of area left, if any.
func (r *Run) PrepareError(area string) error {
	v, ok := r.Value("prepare-error:" + area)
	if !ok {
		return nil
	}
	err, _ := v.(error)
	return err
}
