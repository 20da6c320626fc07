package cli

import (
	"runtime/debug"
	"strings"
)

// Version is pacheck's version as every output shows it. `make build` sets it with
// -ldflags "-X github.com/pacheck/pacheck/cmd/pacheck/internal/cli.Version=…" (git describe);
// otherwise it comes from the build information Go embeds: the module version of a
// `go install …@v1.2.3`, else the VCS revision of a build in a checkout ("devel+3f2a9c1e0b7d",
// "-dirty" when the tree had changes), else "dev" (go run, test binaries).
var Version = "dev"

func init() {
	if Version == "dev" {
		if info, ok := debug.ReadBuildInfo(); ok {
			Version = versionFromBuild(info)
		}
	}
}

// versionFromBuild derives the version from Go's build information.
func versionFromBuild(info *debug.BuildInfo) string {
	if v := info.Main.Version; v != "" && v != "(devel)" {
		return v
	}
	var rev, modified string
	for _, s := range info.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.modified":
			modified = s.Value
		}
	}
	if rev == "" {
		return "dev"
	}
	if len(rev) > 12 {
		rev = rev[:12]
	}
	v := "devel+" + rev
	if modified == "true" {
		v += "-dirty"
	}
	return v
}

// versionText is what `pacheck version` prints: the version, and the Go toolchain and
// revision details when the build information has them (for bug reports).
func versionText() string {
	var b strings.Builder
	b.WriteString("pacheck " + Version + "\n")
	if info, ok := debug.ReadBuildInfo(); ok {
		b.WriteString("go " + strings.TrimPrefix(info.GoVersion, "go") + "\n")
		for _, s := range info.Settings {
			if s.Key == "vcs.revision" || s.Key == "vcs.time" || s.Key == "vcs.modified" {
				b.WriteString(s.Key + " " + s.Value + "\n")
			}
		}
	}
	return b.String()
}
