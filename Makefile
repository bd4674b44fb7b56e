# Two commands do all set-up on a fresh machine: `make demo` and `make test`.
# Each creates/updates the local .venv first (re-installed when the requirement files change).
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
DEMO_DIR ?= /tmp/playerseg-demo

.PHONY: install app demo models lint test clean

install: $(STAMP)

$(STAMP): requirements.txt requirements-dev.txt pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q "setuptools>=70.1" wheel
	# sam2 1.1.0 is source-only; its CUDA extension is optional post-processing, so skip building it.
	SAM2_BUILD_CUDA=0 PIP_NO_BUILD_ISOLATION=0 $(PY) -m pip install -q -r requirements-dev.txt
	$(PY) -m pip install -q --no-deps -e .
	touch $(STAMP)

# The app (main job): serve it on GRADIO_SERVER_NAME:GRADIO_SERVER_PORT (default 127.0.0.1:7860).
app: $(STAMP)
	$(PY) app.py

# Demo: generate a synthetic clip, track its players with the test-size SAM2 (random weights), score the run.
demo: $(STAMP)
	$(PY) -m playerseg.synthetic $(DEMO_DIR)/data --sequences 1 --frames 24 --players 3 --seed 7
	$(PY) -m playerseg segment $(DEMO_DIR)/data/videos/seq000.mp4 --model test-sam2.1-tiny-256 \
		--prompts $(DEMO_DIR)/data/prompts/seq000.json --out $(DEMO_DIR)/run
	$(PY) -m evaluation score --pred $(DEMO_DIR)/run --gt $(DEMO_DIR)/data --out $(DEMO_DIR)/score
	@echo "Run folder: $(DEMO_DIR)/run (overlay.mp4, masks/, frames.csv, run.json)"
	@echo "Scores: $(DEMO_DIR)/score (report.html, per_frame.csv, summary.json)"

# The models trained here (nano-generalist, then nano-pitch from it) into playerseg/tracking/nano_weights/: kept
# when up to date, rebuilt (about 45 min on 2 CPU cores) when missing, stale, partial or edited.
models: $(STAMP)
	$(PY) -m playerseg.nano build

# Lint: ruff's rules and formatting (pyproject.toml [tool.ruff]) and the size and import rules
# (tests/test_code_structure.py). `ruff format .` and `ruff check --fix .` repair most of what it reports.
lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(PY) -m pytest -q -p no:cacheprovider tests/test_code_structure.py

# pytest exits 5 when it collects no test: say so instead of failing on it.
test: lint
	$(PY) -m pytest -q; status=$$?; \
	if [ $$status -eq 5 ]; then echo "pytest collected no tests"; exit 0; fi; exit $$status

clean:
	rm -rf $(VENV) .pytest_cache test-output
