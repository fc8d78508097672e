# affwatch — the two commands a fresh machine needs: `make demo` and `make test`.
# Everything they need (Go modules) is fetched by the go tool itself; the
# DuckDB engine is compiled in through cgo (first build ~1 min, then cached).

GO        ?= go
TAGS      := duckdb_arrow
GOFLAGS   := -tags=$(TAGS)
BIN       := bin/affwatch
VERSION   := $(shell git describe --always --dirty 2>/dev/null || echo dev)
LDFLAGS   := -X main.version=$(VERSION)
# `make test` must stay well under 15 minutes on 2 cores.
TEST_TIMEOUT ?= 12m

.PHONY: bench-night content-corpus train-content eval-content bench-content all build demo test lint chromium bench bench-load bench-detect bench-crawl bench-brand bench-render eval-render bench-scale bench-partitions bench-manyfiles reflists fuzz eval deps clean

all: build

deps:
	$(GO) mod download

build: deps
	$(GO) build $(GOFLAGS) -ldflags "$(LDFLAGS)" -o $(BIN) ./cmd/affwatch

demo: build reflists chromium
	./$(BIN) demo --out demo-out

test: deps lint chromium reflists
	$(GO) test $(GOFLAGS) -timeout $(TEST_TIMEOUT) ./...

# Known-bot user agents (issue 15): the npm package crawler-user-agents,
# installed into a git-ignored folder (never committed); the run reads it
# from the rule pack's reference_lists.bot_user_agents.path (or --bot-list)
# and records its name, version and SHA-256 in run.json. Without npm or the
# registry the run says the list is unavailable and goes on.
REFLISTS_DIR       := .cache/reflists
CRAWLER_UA_VERSION ?= 1.60.0
CRAWLER_UA_PKG     := $(REFLISTS_DIR)/node_modules/crawler-user-agents/package.json
reflists:
	@command -v npm >/dev/null || (apt-get -o DPkg::Lock::Timeout=300 update && apt-get -o DPkg::Lock::Timeout=300 install -y --no-install-recommends npm) || echo "warning: npm not installed"
	@grep -qs '"version": "$(CRAWLER_UA_VERSION)"' $(CRAWLER_UA_PKG) || \
		(mkdir -p $(REFLISTS_DIR) && npm install --prefix $(REFLISTS_DIR) --no-save --no-audit --no-fund --no-package-lock crawler-user-agents@$(CRAWLER_UA_VERSION)) || \
		echo "warning: crawler-user-agents not installed: runs will list reference_lists.bot_user_agents as unavailable"

# reports' browser test renders report.html in Debian's headless Chromium
# (issue 7); without the browser that one test skips and says so. The
# render stage (issue 17) renders the honest profile in Chromium's old
# headless shell (chromium-headless-shell, about half the CPU of a visit)
# and the shopper in the full browser; without the shell both profiles
# render in chromium. Installing needs root and the package mirror.
chromium:
	@(command -v chromium && command -v chromium-headless-shell) >/dev/null || (apt-get -o DPkg::Lock::Timeout=300 update && apt-get -o DPkg::Lock::Timeout=300 install -y --no-install-recommends chromium chromium-headless-shell) || echo "warning: chromium not installed: the report's browser test (reports.TestReportInChromium) will skip"

lint:
	@unformatted=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$unformatted" ]; then echo "gofmt would change:"; echo "$$unformatted"; exit 1; fi
	$(GO) vet $(GOFLAGS) ./...

# Load benchmark of issue 3: 10 M clicks as Parquet and CSV, our load vs a
# bare DuckDB scan of the same files, measured side by side in one run.
# BENCH_CLICKS overrides the size for a quick try.
BENCH_CLICKS ?= 10000000
# The detect stage (issue 4) runs on the Parquet load's database in the same run.
bench: bench-load

bench-load: deps
	$(GO) run $(GOFLAGS) ./cmd/bench-load --clicks $(BENCH_CLICKS) --append docs/BENCHMARKS.md

# Parquet only: load and detect, without the CSV half.
bench-detect: deps
	$(GO) run $(GOFLAGS) ./cmd/bench-load --clicks $(BENCH_CLICKS) --formats parquet --append docs/BENCHMARKS.md

# Crawl benchmark (issue 5): 2,000 generated fixture sites on loopback, 64
# concurrent fetches; pages/s, errors and the crawling process's peak RSS.
BENCH_SITES ?= 2000
bench-crawl: deps
	$(GO) run $(GOFLAGS) ./cmd/bench-crawl --sites $(BENCH_SITES) --concurrency 64 --append docs/BENCHMARKS.md

# Render benchmark of issue 17: 1,000 loopback sites opened in headless
# Chromium in both profiles with a screenshot each; sites/s and the peak
# memory of the render process plus Chromium, appended to BENCHMARKS.md.
RENDER_SITES ?= 1000
RENDER_TABS ?= 6
bench-render: deps chromium
	$(GO) run $(GOFLAGS) ./cmd/bench-render --sites $(RENDER_SITES) --tabs $(RENDER_TABS) --pages 1 --append docs/BENCHMARKS.md

# Rendered findings on the fixture world of issue 17, static-only figures
# beside (the same test make test runs, verbose).
eval-render: deps chromium
	$(GO) test $(GOFLAGS) -count=1 -run '^TestRenderWorld$$' -v ./fixtures/sites/ | grep -A9 'rendered evidence'

# Brand-domain screening (issue 6): 1 M host names against the default
# pack's brands on one core; prints domains/s and appends the result.
BENCH_BRAND_CMD := $(GO) test $(GOFLAGS) -run '^$$' -bench '^BenchmarkScreen1M$$' -benchtime 1x ./detectors/branddomain/
bench-brand: deps
	BRAND_BENCH_APPEND=$(CURDIR)/docs/BENCHMARKS.md BRAND_BENCH_CMD="$(BENCH_BRAND_CMD)" $(BENCH_BRAND_CMD)

# Whole run at scale (issue 8): 1 M, 10 M and 100 M clicks as Parquet, a
# full run without crawl under memory_limit=4GB beside a bare DuckDB scan of
# the same files; 100 M is ten disjoint copies of the 10 M set (generating
# it would take over an hour here). Inputs are cached in .cache/bench-scale
# (about 12 GB at 100 M). BENCH_SCALE_SIZES overrides the sizes.
BENCH_SCALE_SIZES ?= 1000000,10000000,100000000
bench-scale: build
	$(GO) run $(GOFLAGS) ./cmd/bench-scale --sizes $(BENCH_SCALE_SIZES) --affwatch $(BIN) --memory-limit 4GB --append docs/BENCHMARKS.md

# The partitioned night of issue 16: the last night of the 10 M set as a
# baselines pass, 4 partitions and a merge against the same night as one
# run, with the scratch databases in memory (the default) and as files, side
# by side. Wall if the partitions ran in parallel ÷ the whole night.
BENCH_PARTITION_SIZES ?= 10000000
bench-partitions: build
	$(GO) run $(GOFLAGS) ./cmd/bench-scale --sizes $(BENCH_PARTITION_SIZES) --partitions 4 --whole=false --scratch both --affwatch $(BIN) --memory-limit 4GB --append docs/BENCHMARKS.md

# Many tiny files (issue 19): `affwatch load` of one generated program whose
# clicks are split into 1,000 and 10,000 files; BASELINE=path/to/older/affwatch
# measures an older binary beside this one in the same run.
BENCH_MANYFILES ?= 1000,10000
bench-manyfiles: build
	$(GO) run ./cmd/bench-manyfiles --affwatch $(BIN) --files $(BENCH_MANYFILES) $(if $(BASELINE),--baseline $(BASELINE)) --append docs/BENCHMARKS.md

# Fuzzing (issue 8): each target alone for FUZZTIME on one worker, one
# after another (`make fuzz FUZZTIME=1h FUZZ_TARGETS='loaders:FuzzLoadCSV'`
# for one). New crashers land in the package's testdata/fuzz and fail
# `make test` until fixed; the last status line of each is the figure for
# docs/RELIABILITY.md. Loader targets minimize for at most 5 s an input
# (a load takes ~50 ms; go's default minutes would eat the run).
FUZZTIME ?= 10m
FUZZ_TARGETS ?= crawler:FuzzExtract crawler:FuzzInspectImage crawler:FuzzParseRobots \
	detectors/branddomain:FuzzNormalize detectors/brandmisuse:FuzzAnalyze detectors/logocopy:FuzzDecodeICO \
	detectors/prohibited:FuzzNormalize fixtures:FuzzReadLabels loaders:FuzzCoerce loaders:FuzzHeaders \
	loaders:FuzzLoadCSV loaders:FuzzLoadNDJSON loaders:FuzzLoadCompressed loaders/reflists:FuzzParseCIDR loaders/reflists:FuzzParseBotJSON \
	loaders/reflists:FuzzParseIAB rules:FuzzLoadPack reports:FuzzEvidence reports:FuzzExplainText
fuzz: deps
	@status=0; for t in $(FUZZ_TARGETS); do \
		pkg=$${t%%:*}; name=$${t##*:}; \
		echo "== $$name in ./$$pkg for $(FUZZTIME) =="; \
		log=$$(mktemp); \
		$(GO) test $(GOFLAGS) -run '^$$' -fuzz "^$$name\$$" -fuzztime $(FUZZTIME) -fuzzminimizetime 5s -parallel 1 ./$$pkg/ >$$log 2>&1 || status=1; \
		grep -E 'elapsed: [0-9]+m?[0-9]+s, execs|FAIL|^ok|Failing input|failure' $$log | tail -3; rm -f $$log; \
	done; exit $$status

# Detection quality (issue 4): precision and recall per detector on generated
# data with ground truth, seeds 1–3 at two scales as one backfill each, then
# as nightly operation (one run per day) at the small scale; exits 1 when a
# target is missed in either.
EVAL_SEEDS  ?= 1,2,3
EVAL_SCALES ?= 20000,2000000
EVAL_NIGHT_SCALES ?= 20000
eval: build reflists
	@status=0; \
	echo "== backfill: one run over every day =="; \
	./$(BIN) eval --seeds $(EVAL_SEEDS) --scales $(EVAL_SCALES) --data .cache/eval || status=1; \
	echo "== nightly operation: one run per day, findings of all nights together =="; \
	./$(BIN) eval --night --corpus=false --seeds $(EVAL_SEEDS) --scales $(EVAL_NIGHT_SCALES) --data .cache/eval || status=1; \
	echo "== prohibited content on real pages (grouped cross-validation) =="; \
	$(MAKE) --no-print-directory eval-content || status=1; \
	exit $$status

clean:
	rm -rf bin demo-out

# Prohibited content, learned path (issue 18). The real-page corpus lives
# outside the repository (.cache/content-corpus), rebuilt from the manifest
# fixtures/pages/real/manifest.csv out of fetched snapshots of the public
# repositories it names (CONTENT_MIRROR/<owner>+<name>/repo). train-content
# NEEDS that corpus; without it, it stops and says which repositories are
# missing. Training is deterministic: the same corpus gives the same model
# file, byte for byte.
CONTENT_MIRROR ?= /work/.mirror
content-corpus: deps
	$(GO) run ./cmd/content-corpus build --mirror $(CONTENT_MIRROR)

train-content: content-corpus
	$(GO) run $(GOFLAGS) ./cmd/train-content

# Grouped cross-validation per category and language, the blind round and
# the hand-written corpus; without the real corpus (a fresh clone) it
# scores the committed model on the blind round and says so.
eval-content: deps
	-@$(GO) run ./cmd/content-corpus build --mirror $(CONTENT_MIRROR) >/dev/null 2>&1
	$(GO) run $(GOFLAGS) ./cmd/train-content --eval

# Classifying one page on one core (phrases, concepts and the learned
# model); appends the figures to docs/BENCHMARKS.md.
BENCH_CONTENT_CMD := $(GO) test $(GOFLAGS) -run '^$$' -bench 'ClassifyLearned|ClassifyRulesOnly|LearnedOnly|ClassifyLongPage' -cpu 1 -benchtime 3s ./detectors/prohibited/
bench-content: deps
	@out=$$($(BENCH_CONTENT_CMD) 2>&1); status=$$?; echo "$$out"; \
	{ echo; echo "## prohibited_content: one page on one core ($$(date -u +%Y-%m-%d))"; echo; \
	  echo "Command: \`$(BENCH_CONTENT_CMD)\`; machine: $$(nproc) cores, $$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//'), load average $$(cut -d' ' -f1-3 /proc/loadavg) (shared with other builds: figures are noisy)."; \
	  echo; echo '```'; echo "$$out" | grep -E '^Benchmark'; echo '```'; } >> docs/BENCHMARKS.md; exit $$status

# One night as the database grows (issue 16): a generated program of 28
# days at each size; the last night on a database holding the earlier days
# beside the same night on an empty one and a load of its files alone.
# Inputs and the history database are cached in .cache/bench-night.
BENCH_NIGHT_SIZES ?= 150000,1500000
bench-night: build
	$(GO) run ./cmd/bench-night --affwatch $(BIN) --clicks-per-night $(BENCH_NIGHT_SIZES) --append docs/BENCHMARKS.md
