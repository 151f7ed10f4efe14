# jackrec: `make run` and `make test` set up everything on a fresh Debian
# machine (system packages with apt, then a virtualenv with the package).
#
# C warnings are errors only in the project's own checks: JACKREC_WERROR=1
# (read by cext/build_core.py) is set for `make lint` and the sanitizer
# harnesses, never for the package build itself, so a newer compiler cannot
# break `pip install` or `make run`.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
BUILD := build
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

# jackd2 asks a debconf question unless told not to.
APT_PACKAGES := jackd2 libjack-jackd2-dev gcc libc6-dev python3-dev python3-venv \
	valgrind strace tmux sox mediainfo jack-capture systemd dbus e2fsprogs zsh
CORE_SOURCES := cext/memory.c cext/ring.c cext/capture.c
HARNESS := $(CORE_SOURCES) cext/tests/fakejack.c cext/tests/harness.c
WARNINGS = $(shell JACKREC_WERROR=1 $(BIN)/python cext/build_core.py)
# `make package`: the sdist, the wheel built from it, and a fresh venv with the wheel.
PACKAGE := $(BUILD)/package

.PHONY: run test bench soak screenshots man deps venv lint sanitize tsan asan valgrind unit integration \
	package clean install-service uninstall-service

run: venv
	$(BIN)/jackrec run

# Last, the installed product: `make package`.
test: venv lint sanitize
	$(BIN)/pytest
	$(MAKE) --no-print-directory package

# `make bench` runs the full profile (about 50 minutes); `make bench QUICK=1`
# a few minutes.  Then 2048 channels in split takes (bench/split.py, a few
# minutes), jackrec's CPU against jack_capture's, side by side
# (bench/cpu.py, about 25 minutes; quick: 4), and the console's CPU with
# every meter moving (bench/console.py, about 15 minutes; quick: 3), and
# what --sync costs (bench/durability.py, about 5 minutes; quick: 1).
# Results: bench/results/, docs/benchmarks.md.
bench: venv $(VENV)/.bench
	$(BIN)/python -m bench $(if $(QUICK),--quick)
	$(BIN)/python -m bench.split $(if $(QUICK),--quick)
	$(BIN)/python -m bench.cpu $(if $(QUICK),--quick)
	$(BIN)/python -m bench.console $(if $(QUICK),--quick)
	$(BIN)/python -m bench.durability $(if $(QUICK),--quick)

# `make soak`: the long reliability runs (docs/reliability.md): 50 kill -9
# at random moments (tests/integration/test_kill_anywhere.py; its seed is
# printed with any failure), then 64 channels for SOAK_MINUTES (default 30)
# in jackrec record, the service cutting a take a minute and the console,
# all at once (bench/soak.py; results: bench/results/*-soak.jsonl): some
# 70 GB of takes at the default 30 minutes, in build/, removed at the end.
SOAK_MINUTES ?= 30
soak: venv
	JACKREC_KILLS=50 $(BIN)/pytest -q tests/integration/test_kill_anywhere.py
	$(BIN)/python -m bench.soak --minutes $(SOAK_MINUTES)

screenshots: venv
	$(BIN)/python -m tests.tui.screenshots

# The manual page, from the command line (tests/test_cli_habits.py keeps it current).
man: venv
	$(BIN)/python -m jackrec.manpage docs/jackrec.1

$(VENV)/.bench: pyproject.toml
	$(BIN)/pip install -q -e '.[dev,bench]'
	touch $@

deps:
	@missing=$$(for p in $(APT_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || echo $$p; done); \
	if [ -n "$$missing" ]; then \
		echo "apt: installing" $$missing; \
		$(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get update -qq && \
		$(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
			--no-install-recommends $$missing; \
	fi

venv: deps $(BIN)/jackrec

$(BIN)/jackrec: pyproject.toml setup.py cext/*.c cext/*.h cext/build_core.py
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q -e '.[dev]'
	touch $@

# Python: ruff and mypy.  C: the whole extension, cffi's wrapper too, compiled
# as the package build compiles it but with warnings as errors, in a copy of
# cext/ so that the checkout stays clean.
lint: venv
	@! git grep -nE '^(<<<<<<<|>>>>>>>) ' || { echo "merge conflict markers left"; exit 1; }
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	rm -rf $(BUILD)/lint-c && mkdir -p $(BUILD)/lint-c && cp -r cext $(BUILD)/lint-c/
	cd $(BUILD)/lint-c && JACKREC_WERROR=1 $(abspath $(BIN))/python -c \
		'import runpy; runpy.run_path("cext/build_core.py")["ffibuilder"].compile()'

# The realtime core under ThreadSanitizer, AddressSanitizer + UBSan and
# valgrind memcheck (the C harness, then the extension inside Python).  The
# harness's cycles are small: ThreadSanitizer's build writes every one with
# streaming stores, the others as the callback writes small cycles.
sanitize: tsan asan valgrind

tsan: venv
	@mkdir -p $(BUILD)
	gcc $(WARNINGS) -DSTREAMING_BYTES=1 -O1 -g -fsanitize=thread -fno-sanitize-recover=all -Icext \
		$(HARNESS) -lpthread -lm -o $(BUILD)/harness-tsan
	$(BUILD)/harness-tsan

asan: venv
	@mkdir -p $(BUILD)
	gcc $(WARNINGS) -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined \
		-fno-sanitize-recover=all -Icext $(HARNESS) -lpthread -lm -o $(BUILD)/harness-asan
	$(BUILD)/harness-asan

valgrind: venv
	@mkdir -p $(BUILD)
	gcc $(WARNINGS) -O1 -g -Icext $(HARNESS) -lpthread -lm -o $(BUILD)/harness-plain
	valgrind -q --fair-sched=yes --error-exitcode=1 --leak-check=full \
		--errors-for-leak-kinds=definite,indirect $(BUILD)/harness-plain 50
	$(BIN)/python cext/tests/memcheck.py

unit: venv
	$(BIN)/pytest --ignore=tests/integration

integration: venv
	$(BIN)/pytest tests/integration

# The product as a user gets it, which the editable dev venv cannot show:
# the sdist, the wheel built from that sdist (python -m build), the wheel
# installed into a venv of its own, and tests/package run against that venv
# (a take recorded and checked, the console opened in tmux and quit).  A
# stale egg-info would leak old file lists into the sdist, so it goes first.
package: venv
	rm -rf $(PACKAGE) *.egg-info
	mkdir -p $(PACKAGE)
	$(BIN)/python -m build --outdir $(PACKAGE)/dist . >$(PACKAGE)/build.log 2>&1 \
		|| { tail -40 $(PACKAGE)/build.log; exit 1; }
	$(PYTHON) -m venv $(PACKAGE)/venv
	$(PACKAGE)/venv/bin/pip install -q $(PACKAGE)/dist/*.whl
	JACKREC_PACKAGE_DIR=$(PACKAGE) $(BIN)/pytest tests/package

# `make install-service`: the user unit into ~/.config/systemd/user, running
# JACKREC (default: this checkout's venv, built first); SYSTEM=1: the system
# template jackrec@.service into /etc/systemd/system and the jackrec user (as
# root; JACKREC must then live outside home directories).  A unit edited since
# it was installed is never replaced or removed without FORCE=1.  Both print
# the systemctl commands that follow.  See docs/service.md.
JACKREC ?= $(abspath $(BIN)/jackrec)

install-service: $(if $(filter $(abspath $(BIN)/jackrec),$(JACKREC)),venv)
	JACKREC='$(JACKREC)' SYSTEM='$(SYSTEM)' FORCE='$(FORCE)' sh systemd/install-service.sh install

uninstall-service:
	SYSTEM='$(SYSTEM)' FORCE='$(FORCE)' sh systemd/install-service.sh uninstall

clean:
	rm -rf $(VENV) $(BUILD) *.egg-info jackrec/_core*.so .mypy_cache .pytest_cache .ruff_cache
