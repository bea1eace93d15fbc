# 托育助手 — the two commands a newcomer needs: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip
STAMP := $(VENV)/.installed

.PHONY: install run chat test lint bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PIP) install -q --upgrade pip
	# CPU build of torch first: a plain `torch` requirement would pull a multi-GB CUDA build.
	$(PIP) install -q torch==2.13.0
	$(PIP) install -q -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

## Installs, builds the policy index if missing or stale, refreshes the demo institutions (bookings are kept),
## and starts the bot
## (Telegram when TELEGRAM_BOT_TOKEN is set, console mode otherwise).
run: $(STAMP)
	$(PY) -m bot index
	$(PY) -m bot institutions demo
	$(PY) -m bot start

chat: $(STAMP)
	$(PY) -m bot chat

## Installs and runs the whole test suite.
test: $(STAMP)
	$(PY) -m ruff check bot retrieval db knowledge tests bench
	$(PY) -m pytest

bench: $(STAMP)
	$(PY) -m bench.ask_latency

clean:
	rm -rf $(VENV) data .pytest_cache
