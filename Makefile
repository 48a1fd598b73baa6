# The two commands a fresh machine needs: `make demo` and `make test`. Everything else is their parts.
SHELL := /bin/bash
NODE_BIN := node_modules/.bin
export CI_SUITE := 1

.PHONY: demo test build install system-deps lint typecheck unit dogfood bench clean

## demo: build Plumbline and show the gate on a throwaway repository with planted secrets
demo: build
	@bash scripts/demo.sh

## test: lint, type-check, the whole test suite with its coverage floor, and Plumbline's check of itself
test: build lint typecheck unit dogfood

system-deps:
	@command -v git >/dev/null || { apt-get update -qq && apt-get install -y -qq git >/dev/null; }
	@# The analysis end-to-end test runs a real Prometheus (test/analysis-prometheus.e2e.test.ts).
	@command -v prometheus >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends prometheus >/dev/null; }

node_modules/.package-lock.json: package.json package-lock.json
	npm ci --no-audit --no-fund
	@touch $@

install: system-deps node_modules/.package-lock.json

build: install
	$(NODE_BIN)/tsc -p tsconfig.build.json

lint: install
	$(NODE_BIN)/biome check .

typecheck: install
	$(NODE_BIN)/tsc -p tsconfig.json --noEmit

unit: build
	$(NODE_BIN)/vitest run --coverage --reporter=default --reporter=json --outputFile.json=coverage/vitest.json
	@node -e 'const r=require("./coverage/vitest.json");console.log(`vitest: $${r.numPassedTests} passed, $${r.numFailedTests} failed, $${r.numPendingTests} skipped`)'

## dogfood: Plumbline gates its own repository; fails on anything new
dogfood: build
	node bin/plumbline.js check . --baseline --format text --format sarif --output coverage/plumbline.sarif

## bench: the performance benchmarks (see bench/README.md); records bench/RESULTS.md
bench: build
	node bench/run.mjs

clean:
	rm -rf dist coverage
