# Two commands for a fresh machine: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip --disable-pip-version-check --quiet

.PHONY: run serve test install install-test check simulator screenshots clean

# Reinstall only when pyproject.toml changes.
$(VENV)/.installed: pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PIP) install -e .
	touch $@

$(VENV)/.installed-test: $(VENV)/.installed
	$(PIP) install -e ".[test]"
	touch $@

install: $(VENV)/.installed

install-test: $(VENV)/.installed-test

## Web server + task worker + (without FAL_KEY) the fal simulator on http://127.0.0.1:8000
run: install
	$(PY) manage.py migrate --noinput
	$(PY) manage.py start

## Production web server only (gunicorn); run `manage.py db_worker` (or `rqworker`) and `manage.py track` beside it
BIND ?= 127.0.0.1:8000
WORKERS ?= 2
THREADS ?= 4
serve: install
	$(PY) manage.py migrate --noinput
	$(VENV)/bin/gunicorn atelier.wsgi --bind $(BIND) --workers $(WORKERS) --threads $(THREADS) --worker-class gthread --keep-alive 5

## The whole test suite
test: install-test
	$(PY) -m pytest

## The README's screenshots, into docs/screenshots/ (browser tests; ordinary runs write test-artifacts/)
screenshots: install-test
	ATELIER_SCREENSHOTS=docs/screenshots $(PY) -m pytest -q tests/browser/test_screenshots.py

## Django's system checks
check: install
	$(PY) manage.py check

## The fal simulator alone on port 8765
simulator: install
	$(PY) manage.py fal_simulator --port 8765

clean:
	rm -rf $(VENV) .pytest_cache
