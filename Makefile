# tickrt: the two commands are `make demo` and `make test`.
# Both install missing Debian packages, configure (Release), build and run.
BUILD      ?= build
FUZZ_BUILD ?= build-fuzz
JOBS       ?= $(shell nproc)
CMAKE_ARGS ?=
FUZZ_SECONDS ?= 20

.PHONY: all deps configure build demo test fuzz-smoke fuzz bench models quant-report clean

all: build

deps:
	@scripts/install-deps.sh

configure: deps
	@cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=Release $(CMAKE_ARGS) >/dev/null

build: configure
	@cmake --build $(BUILD) -j $(JOBS)

## make demo: the whole loop for about a minute: the in-process simulator replays the bundled real
## Binance capture, lstm_attn_s trades against it; orders, fills, PnL, per-stage latency table.
## DEMO_ARGS passes options, e.g. make demo DEMO_ARGS="--speed 4 --duration 20".
DEMO_ARGS ?=
demo: build
	@$(BUILD)/bin/tickrt demo $(DEMO_ARGS)

## make test: unit, golden and conformance tests (ctest), then a short fuzz run under ASan/UBSan.
test: build
	@cd $(BUILD) && ctest --output-on-failure -j $(JOBS)
	@$(MAKE) --no-print-directory fuzz-smoke

# libFuzzer needs clang; the fuzz build is its own tree with -fsanitize=fuzzer,address,undefined.
fuzz-build: deps
	@CC=clang CXX=clang++ cmake -S . -B $(FUZZ_BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo \
	   -DTICKRT_FUZZ=ON -DTICKRT_SANITIZE=address,undefined >/dev/null
	@cmake --build $(FUZZ_BUILD) -j $(JOBS) --target fuzz_feed_parser

fuzz-smoke: fuzz-build
	@scripts/fuzz.sh $(FUZZ_BUILD) $(FUZZ_SECONDS)

## make fuzz FUZZ_SECONDS=3600: the same fuzzer, longer.
fuzz: fuzz-smoke

## make bench: Google Benchmark binaries (see docs/BENCHMARKS.md for the exact commands).
bench: build
	@for b in $(BUILD)/bin/bench_*; do echo "== $$b"; $$b; done

## make models: export the features of every capture under ../shared/data/binance_ws, then train
## lstm_attn_s, convlstm and transformer_s (CPU, a few minutes) into models/trained/ (docs/MODELS.md),
## then the streaming lstm_attn_stream (tools/train/train_stream.py; also tests/data/stream_lstm_attn_*.npy).
CAPTURES ?= ../shared/data/binance_ws
DATASET  ?= $(BUILD)/datasets/all
models: build
	@$(BUILD)/bin/tickrt features $$(find $(CAPTURES) -type f -name '*.gz' | sort) -o $(DATASET)
	@/usr/bin/python3 tools/train/train.py --data $(DATASET) --out models/trained --tickrt $(BUILD)/bin/tickrt
	@/usr/bin/python3 tools/train/train_stream.py --data $(DATASET) --out models/trained

## make quant-report: FP32 / FP16 / INT8 / auto engines of every trained model -> docs/QUANTIZATION.md
## (needs the dataset of `make models`; a few minutes).
quant-report: build
	@/usr/bin/python3 tools/quant/report.py --tickrt $(BUILD)/bin/tickrt --data $(DATASET)

clean:
	rm -rf $(BUILD) $(FUZZ_BUILD)
