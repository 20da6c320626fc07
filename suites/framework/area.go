package framework

import (
	"slices"

	. "github.com/onsi/ginkgo/v2"
	"github.com/onsi/ginkgo/v2/types"
)

// Area is how a suite area registers its specs: one container per version the run tests,
// labelled ig:<area>-<version>, so spec ids start with <area>-<version>/. Adding a version is one
// entry in Versions (or, for an IG, none at all: --package loads it and the run names it).
type Area struct {
	// Name is the area (Run.Suites) and the IG short name the run's versions are read from (Run.IGs).
	Name string
	// Versions get a top-level container each. Ginkgo fixes top-level containers at init, before
	// the run is known; a version the run asks for that is not listed (a package added with
	// --package) is generated in an unnamed group, with the same ids.
	Versions []string
	// Default is the version tested when the run names none.
	Default string
	// Labels are added to every version container after ig:<area>-<version>.
	Labels []string
	// Listed limits the area to Versions: nothing defines another version (no package, e.g. SMART).
	Listed bool
	// Build declares the specs of one version inside its container.
	Build func(version string)
	// Priority orders the area among the others (Ginkgo SpecPriority, default 0; lower runs
	// later): an area that reads another's results runs after it instead of waiting for them.
	Priority int
}

// DescribeArea registers the area's version containers; call it at package level
// (var _ = framework.DescribeArea(...)). The containers take the caller's code location, which
// Ginkgo orders top-level containers by, so the run order is the one of the caller's file.
func DescribeArea(a Area) bool {
	cl := types.NewCodeLocation(1)
	for _, v := range a.Versions {
		Describe(a.Name+"-"+v, a.labels(v), cl, SpecPriority(a.Priority), func() {
			if a.wants(v) {
				a.Build(v)
			}
		})
	}
	if a.Listed {
		return true
	}
	// versions the run adds beyond Versions: an unnamed group (spec ids leave empty container
	// texts out), ordered after the listed ones as it was when each area wrote it below its loop
	after := cl
	after.LineNumber++
	Describe("", after, func() {
		run := Current()
		if run != nil && !run.Wants(a.Name) {
			return
		}
		for _, v := range run.Versions(a.Name, a.Default) {
			if !slices.Contains(a.Versions, v) {
				Describe(a.Name+"-"+v, a.labels(v), func() { a.Build(v) })
			}
		}
	})
	return true
}

func (a Area) labels(v string) Labels {
	return Label(append([]string{"ig:" + a.Name + "-" + v}, a.Labels...)...)
}

// wants reports whether the run tests version v of the area (with no run: the default version).
func (a Area) wants(v string) bool {
	run := Current()
	if run != nil && !run.Wants(a.Name) {
		return false
	}
	return slices.Contains(run.Versions(a.Name, a.Default), v)
}
