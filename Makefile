# The two commands a new user runs: `make demo` and `make test`.
SHELL := bash
.SHELLFLAGS := -euo pipefail -c

CLUSTER := tests/env/cluster

.PHONY: demo test provision lint unit-and-integration check-no-strays down

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
test: provision lint unit-and-integration check-no-strays

provision:
	tests/env/provision

lint:
	cargo fmt --all --check
	cargo clippy --workspace --all-targets -- -D warnings

unit-and-integration:
	cargo test --workspace

## A test run must leave no control-plane process behind.
check-no-strays:
	@if pgrep -af 'aiservice-test-[0-9]+/' ; then echo "stray test processes left behind (above)"; exit 1; fi
	@echo "no stray test processes"

down:
	$(CLUSTER) down
