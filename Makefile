# pacheck — set-up commands: `make demo` and `make test`.
GO      ?= go
BIN     ?= bin/pacheck
SHARED  ?= $(if $(PACHECK_SHARED),$(PACHECK_SHARED),../shared)
PKGS    ?= ./...

.PHONY: build test demo bench generate vet fuzz clean interop

# The version every output shows: the tag or commit of this checkout (without git, the build
# information Go embeds decides; see cmd/pacheck/internal/cli/version.go).
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null)
LDFLAGS  = $(if $(VERSION),-X github.com/pacheck/pacheck/cmd/pacheck/internal/cli.Version=$(VERSION))

build:
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags "$(LDFLAGS)" -o $(BIN) ./cmd/pacheck

# The container image (Dockerfile): podman when installed, else docker. BASE overrides the Debian
# base image (see the Dockerfile for making one locally with debootstrap).
CONTAINER ?= $(shell command -v podman 2>/dev/null || command -v docker 2>/dev/null)
IMAGE     ?= pacheck:$(if $(VERSION),$(VERSION),dev)
.PHONY: image
image:
	@test -n "$(CONTAINER)" || { echo "make image: neither podman nor docker is installed"; exit 3; }
	$(MAKE) build
	$(CONTAINER) build $(if $(BASE),--build-arg BASE=$(BASE)) -t $(IMAGE) .

vet:
	$(GO) vet $(PKGS)

# All tests. Tests that need ../shared skip with a message when it is absent; .ci/run refuses to
# run without it. The longest package, cmd/pacheck/internal/cli (the fault catalogue: one run
# per reference-server fault), takes 16-22 minutes on 2 cores while the other packages run beside
# it; the per-package timeout is only a guard against a hang.
test: vet
	$(GO) test -count=1 -timeout 30m $(PKGS)

demo: build
	./$(BIN) demo

bench:
	$(GO) test -run '^$$' -bench . -benchmem $(PKGS)

# Recompile the embedded IG data from the official packages in ../shared (output is committed).
generate:
	$(GO) run ./profiles/internal/gen -packages $(SHARED)/fhir-packages -out profiles/embedded
	$(GO) generate ./...

# Every native fuzz target for FUZZTIME each (seed corpora under testdata/fuzz are committed and
# also run by `make test`). Minimising a new input is capped at 10 s: Go's default minute can
# outlast -fuzztime and end the run with "context deadline exceeded" instead of a verdict.
FUZZTIME ?= 5m
FUZZ_TARGETS = FuzzDecodeObject:./checks/fhirhttp FuzzRedact:./checks/fhirhttp FuzzEvaluate:./checks/fhirpath FuzzJSONInput:./checks/fhirpath \
	FuzzValidate:./checks/validate FuzzStreamBundle:./checks/validate FuzzConfigLoad:./cmd/pacheck/internal/config \
	FuzzRenderReport:./reports FuzzVerifyBundle:./reports
fuzz:
	@set -e; for t in $(FUZZ_TARGETS); do \
		echo "== $${t%%:*} ($(FUZZTIME))"; \
		$(GO) test -run '^$$' -fuzz "^$${t%%:*}$$" -fuzztime $(FUZZTIME) -fuzzminimizetime 10s -parallel 1 "$${t#*:}"; \
	done

# The interop harness (interop/README.md): pacheck's presets against independent implementations
# from npm (Medplum's FHIR engine, oidc-provider) on loopback, compared with interop/expected.yaml.
# Needs node >= 20.19, npm, chromium and ../shared; not part of `make test` (it takes minutes).
interop: build
	cd interop && npm ci --no-audit --no-fund --loglevel=error
	cd interop && PACHECK_SHARED=$(abspath $(SHARED)) node --test server.test.js
	PACHECK_SHARED=$(abspath $(SHARED)) PACHECK_BIN=$(abspath $(BIN)) $(GO) test -tags interop -count=1 -timeout 30m -v -run '^TestInterop$$' ./interop

clean:
	rm -rf bin pacheck-report interop/report
