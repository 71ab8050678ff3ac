# creditbridge developer tasks. `make help` lists the targets.
#
# The demo, the tests, the fuzzers and the benchmarks need PostgreSQL on
# 127.0.0.1:5432 (user postgres, database test) and Redis on 127.0.0.1:6379;
# `make services` (a prerequisite of those targets) checks them and starts
# them when they are installed but stopped (deploy/services.sh).

SHELL := bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

# Go from /usr/local/go when it is installed there but not on PATH.
export PATH := $(if $(wildcard /usr/local/go/bin/go),/usr/local/go/bin:,)$(PATH)

GO ?= go
# Database the tests use (adapters/postgres/pgtest creates one schema per test).
export TEST_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/test?sslmode=disable
# Environment file for migrate/audit/serve (copy configs/example.env to .env).
ENV_FILE ?= .env
# Time for each fuzz target in `make fuzz`.
FUZZTIME ?= 10s
# Extra flags for `make test`, e.g. TESTFLAGS='-run TestLedger -v'.
TESTFLAGS ?=
# Image name for `make docker`.
IMAGE ?= creditbridge:dev
# `make vulncheck`: govulncheck, and the Go vulnerability database built
# from the golang.org/x/vulndb module (its data/osv), so no access to the
# database's web host is needed; VULNDB=latest takes the newest snapshot.
GOVULNCHECK_VERSION ?= v1.10.0
VULNDB ?= latest
VULNDB_DIR ?= $(CURDIR)/bin/vulndb
# golangci-lint, pinned; `make tools` installs it into TOOLBIN (GOBIN) once.
GOLANGCI_LINT_VERSION ?= v2.15.0
TOOLBIN ?= $(shell $(GO) env GOPATH)/bin
GOLANGCI_LINT ?= $(TOOLBIN)/golangci-lint

# with_env runs a creditbridge subcommand with $(ENV_FILE) loaded: KEY=VALUE
# lines (no quotes), comments with #; variables already set in the
# environment win over the file, as with docker compose.
define with_env
@if [ -f "$(ENV_FILE)" ]; then \
		while IFS= read -r line || [ -n "$$line" ]; do \
			case "$$line" in ''|'#'*) continue ;; esac; \
			key="$${line%%=*}"; \
			case "$$key" in ''|*[!A-Za-z0-9_]*) echo "$(ENV_FILE): ignoring line: $$key=..." >&2; continue ;; esac; \
			if [ -z "$${!key+set}" ]; then export "$$line"; fi; \
		done < "$(ENV_FILE)"; \
	elif [ -z "$${DATABASE_URL:-}" ]; then \
		echo "no $(ENV_FILE) and DATABASE_URL is not set: cp configs/example.env .env and edit it (or export the variables)" >&2; \
		exit 2; \
	fi; \
	$(GO) run ./cmd/creditbridge $(1)
endef

.PHONY: help
help: ## list the targets
	@echo "usage: make <target>   (variables: FUZZTIME=$(FUZZTIME) ENV_FILE=$(ENV_FILE) IMAGE=$(IMAGE) TESTFLAGS=...)"
	@echo
	@grep -E '^[a-zA-Z_-]+:.*## ' $(MAKEFILE_LIST) | sort | \
		awk 'BEGIN {FS = ":.*## "}; {printf "  %-10s %s\n", $$1, $$2}'

.PHONY: services
services: ## check PostgreSQL (127.0.0.1:5432, database test) and Redis (127.0.0.1:6379); start them if stopped
	@bash deploy/services.sh

.PHONY: run
run: services ## run the demo: a demo shop, signed webhooks through the real endpoints, balance and statement
	$(GO) run ./cmd/creditbridge demo

.PHONY: test
test: services ## run every test with the race detector (PHP/node tests run when php/node are installed)
	$(GO) test -race -count=1 ./... $(TESTFLAGS)

.PHONY: tools
tools: ## install the pinned golangci-lint into TOOLBIN (default: go env GOPATH/bin) unless it is there
	@if ! "$(GOLANGCI_LINT)" version 2>/dev/null | grep -q "version $(GOLANGCI_LINT_VERSION:v%=%) "; then \
		echo "installing golangci-lint $(GOLANGCI_LINT_VERSION) into $(TOOLBIN) (a few minutes, once)"; \
		GOBIN="$(TOOLBIN)" $(GO) install github.com/golangci/golangci-lint/v2/cmd/golangci-lint@$(GOLANGCI_LINT_VERSION); \
	fi

.PHONY: lint
lint: tools ## gofmt lists no file, go vet and golangci-lint (.golangci.yml: layering, errcheck, staticcheck, ...) are clean
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go' -not -path './bin/*')); \
	if [ -n "$$out" ]; then echo "gofmt -l lists files that need gofmt -w:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...
	"$(GOLANGCI_LINT)" run --allow-parallel-runners ./...

.PHONY: vulncheck
vulncheck: ## known vulnerabilities (govulncheck; its database built from the golang.org/x/vulndb module, offline)
	@src=$$(cd "$$(mktemp -d)" && $(GO) mod download -json golang.org/x/vulndb@$(VULNDB) | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$$/\1/p'); \
	if [ ! -d "$$src/data/osv" ]; then echo "golang.org/x/vulndb@$(VULNDB) has no data/osv" >&2; exit 2; fi; \
	rm -rf "$(VULNDB_DIR)"; \
	$(GO) run golang.org/x/vulndb/cmd/indexdb@$(VULNDB) -vulns "$$src/data/osv" -out "$(VULNDB_DIR)"; \
	echo "vulnerability database: golang.org/x/vulndb@$(VULNDB) ($$(ls "$$src/data/osv" | wc -l) entries)"
	$(GO) run golang.org/x/vuln/cmd/govulncheck@$(GOVULNCHECK_VERSION) -db file://$(VULNDB_DIR) ./...

.PHONY: fuzz
fuzz: services ## run each Fuzz target of every package for FUZZTIME (default 10s)
	@pkgs=$$($(GO) list -f '{{if or .TestGoFiles .XTestGoFiles}}{{.ImportPath}}{{end}}' ./...); \
	for pkg in $$pkgs; do \
		list=$$($(GO) test -list '^Fuzz' "$$pkg"); \
		for f in $$(printf '%s\n' "$$list" | grep '^Fuzz' || true); do \
			echo "== $$pkg $$f ($(FUZZTIME))"; \
			$(GO) test -run='^$$' -fuzz="^$$f\$$" -fuzztime=$(FUZZTIME) "$$pkg"; \
		done; \
	done

.PHONY: bench
bench: services ## smoke-run every benchmark once (-benchtime=1x)
	$(GO) test -run='^$$' -bench=. -benchtime=1x ./...

.PHONY: build
build: ## build the binaries of ./cmd/... into bin/
	$(GO) build -o bin/ ./cmd/...

.PHONY: migrate
migrate: ## apply pending database migrations (environment from ENV_FILE, default .env)
	$(call with_env,migrate)

.PHONY: audit
audit: ## check every ledger invariant (environment from ENV_FILE); exits 1 with a report when one fails
	$(call with_env,audit)

.PHONY: serve
serve: ## run the HTTP API and the worker (environment from ENV_FILE)
	$(call with_env,serve)

.PHONY: docker
docker: ## build the container image IMAGE (default creditbridge:dev) from deploy/Dockerfile
	docker build -f deploy/Dockerfile -t $(IMAGE) .

.PHONY: ci
ci: ## run the CI script (.ci/run) on this working tree
	bash .ci/run

.PHONY: clean
clean: ## remove build output (bin/)
	rm -rf bin/
