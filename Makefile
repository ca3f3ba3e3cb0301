# panel-dask developer entry points. `make dev` runs the product on this machine;
# `make test` installs what the tests need and runs them all (CI calls it).
SHELL := /bin/bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
PYPROJECTS := app/pyproject.toml operator/pyproject.toml tools/pyproject.toml constraints.txt
PYTEST_ARGS ?=
LOCAL_BASE ?= 0
# Every Python package of the tools distribution (test kit, control plane, make dev's stack, ...).
TOOL_PACKAGES = $(patsubst %/__init__.py,%,$(wildcard tools/panel_dask_*/__init__.py))

.PHONY: help dev test lint fmt system-deps tools cluster-up cluster-down bench profile clean
.PHONY: images kind-up kind-down docker-up test-images test-monitoring chart-docs chart-dashboard

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-14s %s\n", $$1, $$2}'

# pip's output goes to a log that is shown only when the install fails.
$(STAMP): $(PYPROJECTS)
	@echo "==> creating $(VENV) and installing panel-dask (app, operator, test tools)"
	@log=$$(mktemp); trap 'rm -f "$$log"' EXIT; \
	if ! { $(PYTHON) -m venv $(VENV) \
	    && $(PY) -m pip install --upgrade pip \
	    && $(PY) -m pip install -c constraints.txt \
	        -e 'app[dev,scheduler]' -e 'operator[dev]' -e tools; } >"$$log" 2>&1; then \
	  cat "$$log" >&2; echo "==> installing into $(VENV) failed (pip's output above)" >&2; exit 1; \
	fi
	@touch $@

venv: $(STAMP) ## create the virtualenv and install everything editable

dev: $(STAMP) ## run the whole product locally: Dask scheduler + workers, autoscaler, Panel on :5006 (APPS=your pages)
	$(VENV)/bin/panel-dask-dev $(if $(APPS),--apps '$(APPS)')

system-deps: ## install the Debian packages the tests need (chromium, ...)
	bash tools/install-system-deps.sh

tools: $(STAMP) ## build (or reuse from cache) kube-apiserver, etcd, kwok, helm, kubectl
	$(PY) -m panel_dask_testcluster build

cluster-up: tools ## start the local Kubernetes control plane; prints export lines
	@$(PY) -m panel_dask_testcluster up

cluster-down: $(STAMP) ## stop the local control plane and remove its state
	@$(PY) -m panel_dask_testcluster down

images: ## build panel-dask-app:dev and panel-dask-operator:dev (LOCAL_BASE=1: local Debian base, no registry)
	LOCAL_BASE=$(LOCAL_BASE) bash images/build.sh

kind-up: $(STAMP) system-deps ## kind cluster + Traefik + images + chart, built offline (KIND_IMAGES=upstream pulls); prints the URL
	bash hack/kind-up.sh

kind-down: ## delete the kind cluster made by kind-up and undo its host changes
	bash hack/kind-down.sh

docker-up: system-deps ## start a Docker daemon unless one answers (log under ~/.cache/panel-dask/dockerd)
	bash hack/dockerd-up.sh

# The image tests run what this builds; the local base needs no registry.
test-images: docker-up
	LOCAL_BASE=1 bash images/build.sh

# The Prometheus the kind end-to-end run scrapes the product with (minutes, cold).
test-monitoring: $(STAMP)
	$(PY) -m panel_dask_testcluster build-monitoring

chart-docs: $(STAMP) ## render charts/panel-dask/README.md with helm-docs from README.md.gotmpl and values.yaml
	$(PY) -m panel_dask_testcluster chart-docs

chart-dashboard: $(STAMP) ## regenerate the chart's Grafana dashboard JSON from the metrics' definitions
	$(PY) -m panel_dask_dashboard.build

lint: $(STAMP) ## ruff lint + format check, mypy (strict) on the app, the operator, the tools and examples/
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy app/panel_dask_app operator/panel_dask_operator $(TOOL_PACKAGES) \
	  examples/custom-app/acme_sales

fmt: $(STAMP) ## apply ruff's formatter and autofixes
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

test: system-deps $(STAMP) lint tools test-images test-monitoring ## install what tests need, then run every test
	$(PY) -m pytest $(PYTEST_ARGS)

bench: $(STAMP) tools ## run the benchmarks; JSON + report under bench/results/
	$(PY) -m bench $(BENCH_ARGS)

profile: $(STAMP) tools ## sample the Panel server under 50 offloading sessions (py-spy); under bench/results/
	$(PY) -m bench.profile $(PROFILE_ARGS)

clean: ## remove the virtualenv and caches (the Go tool cache under ~/.cache stays)
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
