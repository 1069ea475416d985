# kakeru: `make demo` shows the engine working end to end; `make test` runs every test.
SHELL := /bin/bash
export PATH := $(PATH):/usr/local/go/bin
CONFIG ?= config.example.yaml
BIN := bin/kakeru
DIAL_FOR ?= 2m

.PHONY: demo test serve build services vet

# Services up, database kakeru created and migrated, a simulated switch on the configured node's
# address, then the engine runs with CONFIG and the walkthrough prints what it answered.
demo: build
	./scripts/services.sh --demo-db
	$(BIN) migrate --config $(CONFIG)
	$(BIN) fsim --listen 127.0.0.1:8021 --scenario fsim-scenario.example.yaml >/dev/null & fsim=$$!; trap "kill $$fsim" EXIT; \
	for i in $$(seq 50); do (echo >/dev/tcp/127.0.0.1/8021) 2>/dev/null && break; sleep 0.1; done; \
	$(BIN) demo --config $(CONFIG) --log-level warn --dial-for $(DIAL_FOR)

# Services up, go vet, then every test with the race detector.
test: services vet
	go test -race -count=1 -timeout 10m ./...

vet:
	@test -z "$$(gofmt -l .)" || { gofmt -l .; echo "gofmt needed"; exit 1; }
	go vet ./...

# Run the engine in the foreground until Ctrl-C (SIGHUP reloads CONFIG).
serve: build
	./scripts/services.sh --demo-db
	$(BIN) migrate --config $(CONFIG)
	$(BIN) serve --config $(CONFIG)

build:
	go build -o $(BIN) ./cmd/kakeru

services:
	./scripts/services.sh
