# The two commands a new user runs: `make demo` and `make test`.
SHELL := bash
.SHELLFLAGS := -euo pipefail -c

CLUSTER := tests/env/cluster
TEST_LOG := target/test-output.log

.PHONY: demo test provision lint sdk dist test-all down schema crds fuzz bench

## Provision the tools, start a local control plane, run the seed program with `pulumi up`
## and show the result. The control plane keeps running until `make down`.
demo:
	tests/env/demo
	@echo; echo "The control plane keeps running. Use it with: eval \"\$$($(CLUSTER) env)\""; \
	  echo "Stop it with: make down"

## Everything: provisioning, formatting, lints, unit and end-to-end tests.
test: provision lint sdk dist test-all

provision:
	tests/env/provision

lint:
	cargo fmt --all --check
	cargo clippy --workspace --all-targets -- -D warnings

## Every test; then no control-plane process may be left behind; then one line that sums
## all test binaries ("N passed, N failed").
test-all:
	mkdir -p target
	cargo test --workspace 2>&1 | tee $(TEST_LOG)
	@if pgrep -af 'aiservice-test-[0-9]+/'; then echo "stray test processes left behind (above)"; exit 1; fi
	@echo "no stray test processes"
	@awk '/^test result:/ { p += $$4; f += $$6 } END { printf "cargo test: %d passed, %d failed\n", p, f }' $(TEST_LOG)

## Stop the demo's control plane; its Pulumi state goes with it.
down:
	if [ -f target/demo/operator.pid ]; then kill $$(cat target/demo/operator.pid) 2>/dev/null || true; fi
	$(CLUSTER) down
	rm -rf target/demo

## Regenerate the committed Pulumi package schema (a unit test fails when it is stale).
schema:
	cargo run -q --bin pulumi-resource-aiservice -- --print-schema > schema/schema.json

## Generate the Python, TypeScript and Go SDKs from schema/schema.json with the real
## `pulumi package gen-sdk` into target/sdk (not committed): Python installable, TypeScript
## compiled and packed, Go built. The examples' tests install them from there.
sdk:
	tests/env/gen-sdk

## The release artefacts of the crate's version in target/dist, from release builds: the
## Pulumi plugin archive, a Terraform provider mirror, the SDK packages, the operator's OCI
## image and Helm chart (see packaging/dist). tests/dist installs each the way users do.
dist: sdk
	packaging/dist

## Regenerate the committed AIService and ModelServing CRDs in schema/crds/ from the Rust types
## in src/api, and the operator's install bundle schema/operator.yaml (unit tests fail when
## either is stale).
crds:
	cargo run -q --bin aiservice-operator -- crds --out schema/crds
	cargo run -q --bin aiservice-operator -- bundle > schema/operator.yaml

## Fuzz property-value decoding for 60 s (nightly toolchain; cargo-fuzz from the tool cache).
fuzz:
	tests/env/provision cargo_fuzz
	cd fuzz && PATH="$$(source ../tests/env/lib.sh && tool_dir cargo-fuzz "$$CARGO_FUZZ_VERSION"):$$PATH" \
	  cargo +nightly fuzz run decode_struct -- -max_total_time=60

## Benchmarks (never part of `make test`; about 90 minutes on 2 cores). Side by side, in the
## same run: the Pulumi lifecycle of a CRD and 100 and 500 CRs with our provider,
## pulumi-kubernetes (built from its Go module by tests/env/provision pulumi_kubernetes), the
## null provider (the engine's floor) and kubectl; the same with Terraform and OpenTofu; each
## provider's cold start and peak memory; the operator's initial sync of 1,000 and 10,000
## AIServices on kwok against creating what it creates with kubectl. Then criterion's
## Check+Diff and scaling-decision rates. Medians of 3 alternating rounds; see README.
BENCH_DIR := target/bench
bench: provision
	tests/env/provision pulumi_kubernetes
	cargo build --release --bin pulumi-resource-aiservice --bin aiservice-operator --bin terraform-provider-aiservice
	cargo build --release -p aiservice-null-providers
	cargo build -p aiservice-testenv --bin aiservice-bench
	CRITERION_HOME=$(abspath $(BENCH_DIR))/criterion cargo bench --bench check_diff
	CRITERION_HOME=$(abspath $(BENCH_DIR))/criterion cargo bench --bench scaling_decision
	cargo bench --bench interceptor
	target/debug/aiservice-bench --provider target/release/pulumi-resource-aiservice \
	  --pulumi-kubernetes "$$(source tests/env/lib.sh && tool_dir pulumi-kubernetes "$$PULUMI_KUBERNETES_VERSION")/pulumi-resource-kubernetes" \
	  --null-providers target/release \
	  --terraform-provider target/release/terraform-provider-aiservice \
	  --operator target/release/aiservice-operator --criterion $(BENCH_DIR)/criterion
	@if pgrep -af 'aiservice-bench-[0-9]+(-operator|-terraform)?/'; then echo "stray benchmark processes left behind (above)"; exit 1; fi
	@echo "no stray benchmark processes"
