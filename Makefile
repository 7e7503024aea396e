# The two commands a newcomer needs: `make chat` and `make test`. Each sets up .venv first.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
# Reinstall when the project's dependencies change.
STAMP := $(VENV)/.installed

.PHONY: chat test test-postgres lint bench soak soak-postgres install clean

$(BIN)/python:
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Minga needs Python 3.11 or newer; this is " + sys.version.split()[0])'
	$(PYTHON) -m venv $(VENV)

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[test]'
	@touch $(STAMP)

install: $(STAMP)

chat: $(STAMP)
	$(BIN)/minga chat $(ARGS)

test: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/python -m pytest

# The suite with a throwaway PostgreSQL on loopback, its address in MINGA_TEST_DATABASE
# (tests/fakes/postgres.py); where no PostgreSQL is installed, one line says how to get it.
test-postgres: $(STAMP)
	@$(BIN)/python -m tests.fakes.postgres run -- $(BIN)/python -m pytest $(ARGS)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

bench: $(STAMP)
	$(BIN)/python -m pip install --quiet -e '.[test,bench]'
	$(BIN)/python -m bench

# Crash runs: `minga run` killed with SIGKILL at random moments, at least 10 times (bench/soak.py).
soak: $(STAMP)
	$(BIN)/python -m bench.soak $(ARGS)

# Two runs on a throwaway PostgreSQL each: 1,000 residents doing the intake over webhooks
# through 3 workers behind a load balancer, one SIGKILLed every 4 s and restarted
# (bench/soak_workers.py; SOAK_ARGS="--residents 200" for a shorter one); then a
# 10,000-recipient broadcast drained by 3 workers, one SIGKILLed halfway, against a fake Bot
# API that answers 429 over 30 messages a second (about 7 minutes; bench/broadcast_workers.py;
# ARGS="--recipients 1000" for a shorter one).
soak-postgres: $(STAMP)
	$(BIN)/python -m bench.soak_workers $(SOAK_ARGS)
	$(BIN)/python -m bench.broadcast_workers $(ARGS)

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
