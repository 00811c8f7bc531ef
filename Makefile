# `make run` and `make test` work on a fresh clone with nothing but Python 3.11+.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test bench simulate migrate lint clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

migrate: $(STAMP)
	mkdir -p instance
	$(BIN)/commsvc db upgrade

# Starts the Procfile's web process on the embedded SQLite database. Each shell execs the next,
# so gunicorn is make's own child: make passes a SIGTERM sent to it alone on to gunicorn.
run: migrate
	PATH="$(CURDIR)/$(BIN):$$PATH" exec sh -c "exec $$(sed -n 's/^web: //p' Procfile)"

simulate: migrate
	$(BIN)/commsvc simulate

# The suite runs in parallel workers (pytest-xdist), one per core up to 4, each on its own
# SQLite file and PostgreSQL database; a file's tests stay in one worker. PYTEST_WORKERS=0 runs
# it in one process.
PYTEST_WORKERS ?= $(shell n=$$(nproc 2>/dev/null || echo 2); [ "$$n" -gt 4 ] && n=4; echo $$n)

test: $(STAMP)
	$(BIN)/ruff check commsvc webhooks tests bench
	$(BIN)/python -m pytest -n $(PYTEST_WORKERS) --dist loadfile $(PYTEST_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check commsvc webhooks tests bench

bench: $(STAMP)
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/python -m bench.run $(BENCH_ARGS)

clean:
	rm -rf $(VENV) instance/*.db instance/*.db-wal instance/*.db-shm
