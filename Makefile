# The two commands a new user runs: `make demo` and `make test`.
SHELL := bash
.SHELLFLAGS := -euo pipefail -c

CLUSTER := tests/env/cluster
TEST_LOG := target/test-output.log

.PHONY: demo test provision lint test-all down

## Provision the tools, start a local control plane and show it.
demo: provision
	$(CLUSTER) up --workloads >/dev/null
	@eval "$$($(CLUSTER) env)"; \
	  echo "== kubectl get namespaces"; kubectl get namespaces; \
	  echo; echo "== kubectl get nodes (a kwok fake node runs the pods)"; kubectl get nodes; \
	  echo; echo "The control plane keeps running. Use it with: eval \"\$$($(CLUSTER) env)\""; \
	  echo "Stop it with: make down"; \
	  echo "Next (open issues): the provider, the typed AIService and the operator join this demo."

## Everything: provisioning, formatting, lints, unit and end-to-end tests.
test: provision lint test-all

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

down:
	$(CLUSTER) down
