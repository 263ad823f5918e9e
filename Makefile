# The front door of the lab. `make help` lists every target.
SHELL := /bin/bash
.DEFAULT_GOAL := help

# The project runs on Node 24 LTS. Where the machine's Node is older, a Node 24 binary is
# installed from the npm registry's `node` package into .tools/ and put first on PATH, so every
# target below (and every process they start) uses it.
NODE_VERSION := 24.21.0
NODE_IS_RECENT := $(shell node -e 'process.exit(Number(process.versions.node.split(".")[0]) >= 24 ? 0 : 1)' 2>/dev/null && echo yes)
ifeq ($(NODE_IS_RECENT),yes)
NODE := $(shell command -v node)
else
export PATH := $(CURDIR)/.tools/node_modules/.bin:$(PATH)
NODE := $(CURDIR)/.tools/node_modules/.bin/node
endif

.PHONY: help
help: ## List the targets
	@awk 'BEGIN {FS = ":.*## "} /^[a-zA-Z_-]+:.*## / {printf "  \033[36m%-14s\033[0m %s\n", $$1, $$2}' $(MAKEFILE_LIST)

$(CURDIR)/.tools/node_modules/.bin/node:
	@echo "Node $$(node --version 2>/dev/null || echo none) is older than 24: installing Node $(NODE_VERSION) into .tools/"
	npm install --no-save --no-audit --no-fund --prefix .tools node@$(NODE_VERSION)

node_modules/.package-lock.json: package-lock.json package.json $(NODE)
	npm ci --no-audit --no-fund
	@touch $@

.PHONY: deps
deps: node_modules/.package-lock.json ## Install the Node 24 toolchain (when needed) and npm packages
	@scripts/system-deps.sh

.PHONY: backends
backends: ## Make sure MySQL/MariaDB, Redis and RabbitMQ answer (install and start them when not)
	@scripts/backends.sh ensure

# `node lab/bin/lab.js` rather than `npx lab`: npx would look the name up on the npm registry
# whenever the workspace's bin link is missing.
LAB := $(NODE) lab/bin/lab.js

.PHONY: lab-up
lab-up: deps ## Start the lab (Docker, else lite mode) and print where everything is
	@$(LAB) up

.PHONY: lab-down
lab-down: deps ## Stop every lab process (and the backends the lab started)
	@$(LAB) down

.PHONY: lab-status
lab-status: deps ## Show which lab components are healthy, their URLs and the alerts firing
	@$(LAB) status

.PHONY: build
build: deps ## Compile every workspace (tsc -b)
	npx tsc -b

# The service manifest (lab/src/core/topology.ts) is the one place a port, schema, queue or Node flag is
# written; what YAML, JSON, shell and the Dockerfile say of it is derived from it here.
.PHONY: generate
generate: build ## Write the files derived from the service manifest (compose keys, Prometheus targets, MariaDB init, Dockerfile)
	$(NODE) lab/dist/core/generate.js

# The generated files must be committed as `make generate` writes them (the kubernetes-mixin habit).
.PHONY: lint
lint: generate ## Type-check the tests and the k6 scripts, ESLint, Prettier, and no stale generated file
	npx tsc --noEmit -p tsconfig.test.json
	npx tsc -p services/traffic/k6/tsconfig.json
	npx eslint .
	npx prettier --check .
	@git diff --exit-code -- $$($(NODE) lab/dist/core/generate.js --list) || \
	  { echo 'make generate changed the files above: commit them'; exit 1; }

.PHONY: test
test: build lint backends ## Lint, then run every test suite against the real backends
	npx jest $(JEST_FLAGS)

# The layers of `make test`, each usable alone.
PROMETHEUS_DIR := observability/prometheus
.PHONY: test-rules
test-rules: ## promtool and amtool on the Prometheus rules and Alertmanager config (no build, no backends)
	@scripts/system-deps.sh
	cd $(PROMETHEUS_DIR) && promtool check config prometheus.yml
	cd $(PROMETHEUS_DIR)/rules && promtool check rules *.rules.yml && promtool test rules *.test.yml
	amtool check-config observability/alertmanager/alertmanager.yml

# A unit test is named *.unit.test.ts: it starts no lab and uses no backend (jest.unit.config.js).
.PHONY: test-unit
test-unit: build ## The tests that start no lab and need no backend (*.unit.test.ts)
	npx jest -c jest.unit.config.js $(JEST_FLAGS)

.PHONY: test-exercise
test-exercise: ## One exercise's lab test: make test-exercise N=09 (lab/test/exercises-09*.test.ts)
	@[[ "$(N)" =~ ^[0-9]{2}$$ ]] || { echo 'usage: make test-exercise N=09 (two digits)' >&2; exit 2; }
	@$(MAKE) --no-print-directory build backends
	npx jest $(JEST_FLAGS) 'lab/test/exercises-([0-9]{2}-)?$(N)(-[0-9]{2})?\.test\.ts$$'

# Node runs bench/*.ts by stripping their types; tsc checks them first (bench/tsconfig.json).
.PHONY: bench
bench: build ## Measure instrumentation overhead, gateway throughput and the lite lab (prints figures)
	npx tsc -p bench/tsconfig.json
	$(NODE) bench/main.ts $(BENCH)

.PHONY: docker-smoke
docker-smoke: build ## With a Docker engine: up, one checkout, its trace, a log line, a dashboard query, down
	$(NODE) scripts/docker-smoke.mts

.PHONY: clean
clean: ## Remove build output
	npx tsc -b --clean
