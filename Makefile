# kakeru: `make demo` shows the engine working end to end; `make test` runs every test.
SHELL := /bin/bash
export PATH := $(PATH):/usr/local/go/bin
CONFIG ?= config.example.yaml
BIN := bin/kakeru
DIAL_FOR ?= 2m
# The demo's own simulated switch (port 0: any free port) and the Redis database of its live state.
DEMO_SWITCH ?= 127.0.0.1:0
DEMO_REDIS_DB ?= 14

.PHONY: demo test serve build services vet lab lab-stop test-lab fuzz monitoring-test package package-test

# Services up, database kakeru created and migrated, then `kakeru demo` with CONFIG: it starts its
# own simulated switch on DEMO_SWITCH and dials through it only (it stops with an error when that
# address is taken), keeps its live state in Redis database DEMO_REDIS_DB, and the walkthrough
# prints what the engine answered.
demo: build
	./scripts/services.sh --demo-db
	$(BIN) migrate --config $(CONFIG)
	$(BIN) demo --config $(CONFIG) --log-level warn --dial-for $(DIAL_FOR) \
		--switch $(DEMO_SWITCH) --scenario fsim-scenario.example.yaml --redis-db $(DEMO_REDIS_DB)

# Services up, go vet, then every test with the race detector.
test: services vet
	go test -race -count=1 -timeout 10m ./...

vet:
	@test -z "$$(gofmt -l .)" || { gofmt -l .; echo "gofmt needed"; exit 1; }
	go vet ./...
	go vet -tags lab ./labtest/

# Run the engine in the foreground until Ctrl-C (SIGHUP reloads CONFIG).
serve: build
	./scripts/services.sh --demo-db
	$(BIN) migrate --config $(CONFIG)
	$(BIN) serve --config $(CONFIG)

build:
	go build -o $(BIN) ./cmd/kakeru

# The metrics collector, the Grafana dashboard's model and the alerting rules of deploy/ (no
# services needed). The rules' unit tests run through promtool when it is on PATH (Debian package
# prometheus; CI installs it), else the rule file is only checked by the Go test.
monitoring-test:
	go test -race -count=1 ./metrics/ ./deploy/

services:
	./scripts/services.sh

# The lab switch: build a real FreeSWITCH 1.11.1 under ~/.cache/kakeru-lab (first time only), configure and start it.
lab:
	./scripts/freeswitch-lab.sh build
	./scripts/freeswitch-lab.sh start

# Every fuzz target for FUZZTIME each, one after another (CI: a short run; before a release or
# after touching a parser: FUZZTIME=10m). Findings are written under the package's testdata/fuzz.
FUZZTIME ?= 10s
FUZZ_TARGETS := ./listimport:FuzzReader ./freeswitch/wire:FuzzReadFrame ./httpapi:FuzzJSONRoutes ./config:FuzzLoad
fuzz: services
	@for t in $(FUZZ_TARGETS); do \
		pkg=$${t%%:*}; name=$${t##*:}; echo "== $$name ($$pkg) for $(FUZZTIME)"; \
		go test -run '^$$' -fuzz "^$$name\$$" -fuzztime $(FUZZTIME) $$pkg || exit 1; \
	done

# Stop the lab switch.
lab-stop:
	./scripts/freeswitch-lab.sh stop

# Services and the lab switch up, then the real-switch tests of labtest/ (build tag lab) with its address and password.
test-lab: services lab
	set -a; eval "$$(./scripts/freeswitch-lab.sh env)"; set +a; \
	go test -race -count=1 -tags lab -timeout 30m ./labtest/...

# The Debian package bin/deb/kakeru_$(PKG_VERSION)_ARCH.deb (packaging/, docs/operations.md): the
# static binary, /etc/kakeru/kakeru.yaml derived from config.example.yaml with placeholder
# tokens, and the systemd unit, put together by nfpm, which packaging/tools pins in a module of
# its own.
PKG_VERSION ?= $(shell git log -1 --format='0~git%cd.%h' --date=format:%Y%m%d%H%M%S 2>/dev/null || echo 0~dev)
PKG_MAINTAINER ?= kakeru developers <root@localhost>
package:
	rm -rf bin/package bin/deb
	mkdir -p bin/package bin/deb
	CGO_ENABLED=0 go build -trimpath -o bin/package/kakeru ./cmd/kakeru
	sed -f packaging/kakeru.yaml.sed config.example.yaml > bin/package/kakeru.yaml
	go -C packaging/tools build -o ../../bin/nfpm github.com/goreleaser/nfpm/v2/cmd/nfpm
	PKG_VERSION='$(PKG_VERSION)' PKG_ARCH="$$(go env GOARCH)" PKG_MAINTAINER='$(PKG_MAINTAINER)' \
		bin/nfpm package --config packaging/nfpm.yaml --packager deb --target bin/deb/

# Builds the package, installs it on this machine (root, Debian), checks it and purges it again.
package-test:
	./scripts/package-test.sh
