# ViT in C — a Vision Transformer built chapter by chapter.
# `make help` lists the targets. The two set-up commands are `make walkthrough`
# and `make test`; both first install (or name) the Debian packages needed.

SHELL     := bash
.SHELLFLAGS := -eo pipefail -c
CC        ?= cc
CFLAGS    ?= -O2 -g -fno-trapping-math
OPENMP    := -fopenmp
WARNINGS  := -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wvla
STD       := -std=c11 -D_POSIX_C_SOURCE=200809L
PKGS      := zlib stb openblas libpng libjpeg lapacke
PYTHON    := /usr/bin/python3
CPPFLAGS  += -Isrc $(shell pkg-config --cflags $(PKGS) 2>/dev/null) -MMD -MP
LDLIBS    += $(shell pkg-config --libs $(PKGS) 2>/dev/null) -lm
# OpenBLAS chooses its kernels for the CPU it runs on (AVX2 or AVX-512 ones, with
# their own blockings), and those sum a product in different orders: the same
# training then ends in different bits. Everything run from here uses its AVX2
# kernels (Haswell's), which every machine of the project has, so that the figures
# are the same bytes on all of them; an OPENBLAS_CORETYPE of your own wins.
# `make bench` times OpenBLAS's own choice as well (docs/bench.md).
ifneq ($(shell grep -qw avx2 /proc/cpuinfo 2>/dev/null && grep -qw fma /proc/cpuinfo && echo y),)
export OPENBLAS_CORETYPE ?= Haswell
endif
SANITIZE  := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
# clang cannot vectorise some `omp simd` loops once the sanitizers instrument
# them, and says so as a warning: not an error in the code under test.
SANITIZE  += $(if $(findstring clang,$(shell $(CC) --version 2>/dev/null)),-Wno-pass-failed)

# The library grows chapter by chapter: MODULES_NN is what chapter NN may use,
# and chapter NN is linked with exactly those objects, so it cannot reach ahead.
# A new chapter needs only its MODULES_NN line and its name in CHAPTERS; the
# tests link the highest MODULES_NN.
MODULES_01 := error files rng cli gunzip idx fashion_mnist colormap image plot patch text narrate
MODULES_02 := $(MODULES_01) tensors matmul linear conv2d embed mosaic
MODULES_03 := $(MODULES_02) attention standardize
MODULES_04 := $(MODULES_03) mha
MODULES_05 := $(MODULES_04) layernorm gelu vit_config encoder
MODULES_06 := $(MODULES_05) linear_backward layernorm_backward gelu_backward attention_backward \
              mha_backward embed_backward encoder_backward head loss safetensors model \
              checkpoint dropout slices vit adamw progress train
MODULES_07 := $(MODULES_06) conv2d_gemm conv2d_gemm_backward weight_standardize \
              weight_standardize_backward groupnorm groupnorm_backward relu relu_backward \
              maxpool maxpool_backward global_avgpool global_avgpool_backward resnet \
              resnet_backward hybrid cnn
MODULES_08 := $(MODULES_07) shift conv2d_circular
MODULES_09 := $(MODULES_08) pca attention_distance rollout
MODULES_10 := $(MODULES_09) pos_interpolate vit_resize linear_probe bilinear sgd
MODULES_11 := $(MODULES_10) pretrained preprocess
MODULES_12 := $(MODULES_11) mpp mpp_backward mpp_vit

CHAPTERS   := 01_patches 02_embedding 03_attention 04_multihead 05_encoder 06_classifier \
              07_hybrid 08_equivariance 09_inspect 10_finetune 11_pretrained \
              12_selfsupervised
BINS       := $(CHAPTERS:%=build/ch%)
ASAN_BINS  := $(CHAPTERS:%=build/asan/ch%)
number      = $(firstword $(subst _, ,$(1)))# 06_classifier -> 06
# The tests link the highest MODULES_NN defined, which may be ahead of the last
# chapter program (a chapter's layers come before its program).
ALL_MODULES := $($(lastword $(sort $(filter MODULES_%,$(.VARIABLES)))))
OBJS       := $(ALL_MODULES:%=build/obj/%.o)
TEST_OBJS  := $(ALL_MODULES:%=build/asan/%.o) $(patsubst tests/%.c,build/asan/tests/%.o,$(wildcard tests/*.c))
PAGES      := $(wildcard docs/*.md)

# QUICK=1 is the smoke run CI makes of the walkthrough: every chapter on a small
# budget (its QUICK_ARGS_NN), with its figures, its printed output, its models
# and the woven pages under build/quick/, so the committed figures, the real
# book and the trained models stay as they are.
QUICK_ARGS_06 := --epochs 1 --train-limit 2000 --checkpoint build/quick/models/vit.safetensors
QUICK_ARGS_07 := --sizes 500,1000 --epochs 1 --min-steps 10 --models build/quick/models \
                 --vit-model build/quick/models/vit.safetensors
QUICK_ARGS_08 := --models build/quick/models
QUICK_ARGS_09 := --models build/quick/models
QUICK_ARGS_10 := --model build/quick/models/vit.safetensors --models build/quick/models \
                 --finetune-images 512 --test-images 1000 --draws 2 --transfer-epochs 1 \
                 --transfer-limit 2000
QUICK_ARGS_11 := --random
# Chapter 11 runs ViT-B/16 on the converted weights when they are on the
# machine (tools/convert_weights.py), else on random weights.
ARGS_11    := $(if $(QUICK),,$(if $(wildcard build/models/vit_b_16.safetensors),,--random))
QUICK_ARGS_12 := --pretrain-epochs 1 --train-limit 2000 --labels 200,500 --epochs 2 --min-steps 20 \
                 --models build/quick/models --vit-model build/quick/models/vit.safetensors
RUN        := $(if $(QUICK),build/quick,build)
FIGURES    := $(if $(QUICK),build/quick/figures,figures)
HTML_DIR   := $(if $(QUICK),build/quick/html,docs/html)
HTML       := $(PAGES:docs/%.md=$(HTML_DIR)/%.html)
OUTPUTS    := $(CHAPTERS:%=$(RUN)/out/ch%.txt)
export WEAVE_OUTPUTS := $(RUN)/out
# Models a chapter reads that no earlier chapter's own run makes: NEEDS_NN is
# made just before chapter NN runs in `make figures`. Chapter 09 inspects a ViT
# with more patches than chapter 06's (patch 4: a 7x7 grid), trained by chapter
# 06's program with its recipe (3 epochs; QUICK=1: 1 epoch on 2,000 images).
NEEDS_09   := $(RUN)/models/vit_p4.safetensors
P4_ARGS    := $(if $(QUICK),--epochs 1 --train-limit 2000,--epochs 3)
# The flags chapter $(1) (say 06_classifier) runs with in `make figures`.
chapter_flags = --out $(FIGURES)/ch$(call number,$(1)) $(ARGS_$(call number,$(1))) \
                $(if $(QUICK),$(QUICK_ARGS_$(call number,$(1))))

.PHONY: all deps test fuzz fuzz-seeds figures docs walkthrough reference bench check-pretrained \
        clean help
.DELETE_ON_ERROR:

all: $(BINS)                                 ## build the library and every chapter into build/

help:                                        ## list the targets
	@grep -hE '^[a-z].*##' Makefile | sed -E 's/:.*## */\t/'

deps:                                        ## install (as root) or name the missing Debian packages
	@tools/deps.sh

walkthrough: deps                            ## build, run every chapter in order, redo figures and docs
	@$(MAKE) --no-print-directory all
	@$(MAKE) --no-print-directory figures
	@$(MAKE) --no-print-directory docs

test: deps                                   ## build and run every test suite (sanitizers on)
	@$(MAKE) --no-print-directory build/test/run_tests
	@rm -rf build/sanitizer && mkdir -p build/sanitizer
	@status=0; \
	 ASAN_OPTIONS=log_path=$(CURDIR)/build/sanitizer/report:detect_leaks=1:abort_on_error=1 \
	 UBSAN_OPTIONS=log_path=$(CURDIR)/build/sanitizer/report:print_stacktrace=1 \
	 build/test/run_tests --jobs 2 || status=$$?; \
	 tools/sanitizer_reports.sh build/sanitizer && exit $$status

# ---- the library and the chapter programs ----------------------------------

build/obj/%.o: src/%.c
	@mkdir -p $(@D)
	$(CC) $(STD) $(CPPFLAGS) $(CFLAGS) $(OPENMP) $(WARNINGS) -c $< -o $@

build/ch%: chapters/%.c
	@mkdir -p $(@D)
	$(CC) $(STD) $(CPPFLAGS) $(CFLAGS) $(OPENMP) $(WARNINGS) $< $(filter %.o,$^) -o $@ $(LDLIBS)

# build/chNN_name: the objects of MODULES_NN, for each chapter.
define chapter_objects
build/ch$(1): $(MODULES_$(call number,$(1)):%=build/obj/%.o)
endef
$(foreach chapter,$(CHAPTERS),$(eval $(call chapter_objects,$(chapter))))

# ---- tests: every suite in one Criterion binary, built with sanitizers ------

build/asan/%.o: src/%.c
	@mkdir -p $(@D)
	$(CC) $(STD) $(CPPFLAGS) $(CFLAGS) $(OPENMP) $(WARNINGS) $(SANITIZE) -c $< -o $@

build/asan/tests/%.o: tests/%.c
	@mkdir -p $(@D)
	$(CC) $(STD) $(CPPFLAGS) $(shell pkg-config --cflags criterion) $(CFLAGS) $(OPENMP) $(WARNINGS) $(SANITIZE) -c $< -o $@

# The list of objects, rewritten only when it changes, so that deleting a
# suite relinks the binary too.
build/test/objects: FORCE
	@mkdir -p $(@D)
	@echo '$(TEST_OBJS)' | cmp -s - $@ || echo '$(TEST_OBJS)' > $@

build/test/run_tests: $(TEST_OBJS) build/test/objects $(ASAN_BINS)
	$(CC) $(SANITIZE) $(OPENMP) $(filter %.o,$^) -o $@ $(shell pkg-config --libs criterion) $(LDLIBS)

# The chapter programs with the same sanitizers, for the suites that run them
# on bad input (tests/test_bad_input.c): build/asan/chNN_name.
build/asan/ch%: chapters/%.c
	$(CC) $(STD) $(CPPFLAGS) $(CFLAGS) $(OPENMP) $(WARNINGS) $(SANITIZE) $< $(filter %.o,$^) -o $@ $(LDLIBS)
define asan_chapter_objects
build/asan/ch$(1): $(MODULES_$(call number,$(1)):%=build/asan/%.o)
endef
$(foreach chapter,$(CHAPTERS),$(eval $(call asan_chapter_objects,$(chapter))))
-include $(ASAN_BINS:=.d)

FORCE:

# ---- fuzzing: libFuzzer targets in fuzz/, built with clang -----------------

# One program per fuzz/NAME.c, linked with the highest MODULES_NN under ASan
# and UBSan; its seeds are fuzz/corpus/NAME/. FUZZ_TARGETS picks some (all by
# default; `make fuzz-NAME` is one). With FUZZ_SECONDS=N each runs N seconds,
# with FUZZ_RUNS=N each runs N inputs (both: whichever comes first), on
# build/fuzz/corpus/NAME/ (the seeds copied in, new inputs kept there across
# runs); FUZZ_ARGS adds libFuzzer flags. Crashes are saved as
# build/fuzz/crashes/NAME-*; any crash fails, after the other targets have run.
FUZZ_CC      := clang
FUZZ_FLAGS   := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer \
                -Wno-pass-failed
FUZZ_TARGETS := $(patsubst fuzz/%.c,%,$(wildcard fuzz/*.c))
FUZZ_BINS    := $(FUZZ_TARGETS:%=build/fuzz/%)
FUZZ_OBJS    := $(ALL_MODULES:%=build/fuzz/obj/%.o)
FUZZ_LIMITS  := $(if $(FUZZ_SECONDS),-max_total_time=$(FUZZ_SECONDS)) $(if $(FUZZ_RUNS),-runs=$(FUZZ_RUNS))

fuzz: deps                                   ## build fuzz/ (clang, libFuzzer); FUZZ_SECONDS=N or FUZZ_RUNS=N runs each
	@$(MAKE) --no-print-directory $(FUZZ_BINS)
ifneq ($(FUZZ_SECONDS)$(FUZZ_RUNS),)
	@mkdir -p build/fuzz/crashes
	@status=0; for t in $(FUZZ_TARGETS); do \
	   mkdir -p build/fuzz/corpus/$$t && cp fuzz/corpus/$$t/* build/fuzz/corpus/$$t/; \
	   printf '\n===== build/fuzz/%s %s =====\n' $$t '$(strip $(FUZZ_LIMITS) $(FUZZ_ARGS))'; \
	   build/fuzz/$$t $(FUZZ_LIMITS) $(FUZZ_ARGS) -print_final_stats=1 \
	     -artifact_prefix=build/fuzz/crashes/$$t- build/fuzz/corpus/$$t || status=1; \
	 done; exit $$status
endif

fuzz-%:                                      ## one target: make fuzz-idx FUZZ_SECONDS=60 is make fuzz FUZZ_TARGETS=idx ...
	@test -f fuzz/$*.c || { echo "no fuzz target fuzz/$*.c" >&2; exit 2; }
	@$(MAKE) --no-print-directory fuzz FUZZ_TARGETS=$*

fuzz-seeds: build/fuzz_seeds                 ## rewrite the seed corpora fuzz/corpus/ (made by the library)
	build/fuzz_seeds fuzz/corpus

build/fuzz_seeds: tools/fuzz_seeds.c $(OBJS)
	@mkdir -p $(@D)
	$(CC) $(STD) $(CPPFLAGS) $(CFLAGS) $(OPENMP) $(WARNINGS) $< $(filter %.o,$^) -o $@ $(LDLIBS)

# The objects are kept (not removed as intermediates), so a rebuild is quick.
.SECONDARY: $(FUZZ_OBJS)

build/fuzz/obj/%.o: src/%.c
	@mkdir -p $(@D)
	$(FUZZ_CC) $(STD) $(CPPFLAGS) $(CFLAGS) $(OPENMP) $(WARNINGS) $(FUZZ_FLAGS) \
	  -fsanitize=fuzzer-no-link -c $< -o $@

build/fuzz/%: fuzz/%.c $(FUZZ_OBJS)
	@mkdir -p $(@D)
	$(FUZZ_CC) $(STD) $(CPPFLAGS) $(CFLAGS) $(OPENMP) $(WARNINGS) $(FUZZ_FLAGS) -fsanitize=fuzzer \
	  $< $(FUZZ_OBJS) -o $@ $(LDLIBS)

# ---- figures and docs -------------------------------------------------------

figures: $(BINS)                             ## run every chapter with its defaults: figures/chNN/
	@mkdir -p $(RUN)/out
	@$(foreach c,$(CHAPTERS),\
	   $(if $(NEEDS_$(call number,$c)),$(MAKE) --no-print-directory $(NEEDS_$(call number,$c));) \
	   printf '\n===== build/ch%s =====\n' $c; \
	   ./build/ch$c $(call chapter_flags,$c) | tee $(RUN)/out/ch$c.txt.tmp; \
	   mv $(RUN)/out/ch$c.txt.tmp $(RUN)/out/ch$c.txt;)

$(RUN)/out/ch%.txt: build/ch%
	@mkdir -p $(@D)
	./$< $(call chapter_flags,$*) > $@.tmp && mv $@.tmp $@

$(RUN)/out/ch09_inspect.txt: $(NEEDS_09)

# Each chapter's run waits for the one before it: later chapters read the models
# earlier ones train (build/models/), so that even `make -j2 docs` runs them in order.
# The pairs "NN_later:NN_earlier", one for each chapter after the first (and the
# last chapter alone, left over from the join).
CHAPTER_PAIRS := $(join $(addsuffix :,$(wordlist 2,$(words $(CHAPTERS)),$(CHAPTERS))),$(CHAPTERS))
$(foreach p,$(CHAPTER_PAIRS),$(if $(findstring :,$p),\
  $(eval $(RUN)/out/ch$(firstword $(subst :, ,$p)).txt: $(RUN)/out/ch$(lastword $(subst :, ,$p)).txt)))

$(RUN)/models/vit_p4.safetensors: build/ch06_classifier
	@mkdir -p $(@D)
	@printf '\n===== build/ch06_classifier --patch 4: the second ViT of chapter 09 (a 7x7 grid) =====\n'
	./build/ch06_classifier --patch 4 $(P4_ARGS) --checkpoint $@ --out $(RUN)/ch06_p4

build/weave: tools/weave.c
	@mkdir -p $(@D)
	$(CC) $(STD) $(CFLAGS) $(OPENMP) $(WARNINGS) $< -o $@

docs: build/weave $(OUTPUTS) build/docs/modules.txt  ## weave docs/*.md into standalone HTML in docs/html/
	@build/weave check $(PAGES)
	@$(MAKE) --no-print-directory $(HTML)

# Each chapter and the modules it may use, one line `NN_name module...`, for
# the @modules table of docs/layout.md; rewritten only when it changes.
build/docs/modules.txt: FORCE
	@mkdir -p $(@D)
	@printf '%s\n' $(foreach c,$(CHAPTERS),'$c $(MODULES_$(call number,$c))') > $@.tmp
	@cmp -s $@.tmp $@ && rm $@.tmp || mv $@.tmp $@

# A page: its directives expanded, a table of contents (not on the index), and
# the navigation bar above and below.
TOC := --toc --toc-depth=2 --metadata toc-title="On this page"
$(HTML_DIR)/index.html: TOC :=

$(HTML_DIR)/%.html: docs/%.md $(PAGES) docs/style.css build/weave $(OUTPUTS) build/docs/modules.txt \
                  $(wildcard src/*.[ch] chapters/*.c tests/*.[ch])
	@mkdir -p build/docs $(@D)
	build/weave expand $< build/docs/$*.md
	build/weave nav $< build/docs/$*.nav.html
	pandoc build/docs/$*.md --from markdown --to html5 --standalone --self-contained \
	  --mathml --highlight-style=tango --resource-path=docs:. --css docs/style.css $(TOC) \
	  --include-before-body=build/docs/$*.nav.html --include-after-body=build/docs/$*.nav.html \
	  --metadata lang=en --output $@.tmp && mv $@.tmp $@

bench: deps build/bench                      ## the benchmark models and ViT-B/16 in C and in PyTorch: rates, ratios, fractions of sgemm
	@tools/deps.sh python && tools/bench.sh

build/bench: tools/bench.c $(MODULES_07:%=build/obj/%.o)
	@mkdir -p $(@D)
	$(CC) $(STD) $(CPPFLAGS) $(CFLAGS) $(OPENMP) $(WARNINGS) $< $(filter %.o,$^) -o $@ $(LDLIBS)

# ---- chapter 11: the C model against torchvision's ----------------------------

check-pretrained: deps build/pretrained_logits  ## torchvision's vit_b_16 and a JAX-layout ViT, random weights, converted: C logits = PyTorch's (needs python3-torch)
	@tools/deps.sh python
	$(PYTHON) tools/check_pretrained.py

build/pretrained_logits: tools/pretrained_logits.c $(MODULES_11:%=build/obj/%.o)
	@mkdir -p $(@D)
	$(CC) $(STD) $(CPPFLAGS) $(CFLAGS) $(OPENMP) $(WARNINGS) $< $(filter %.o,$^) -o $@ $(LDLIBS)

reference:                                   ## regenerate tests/fixtures/ with PyTorch (needs python3-torch)
	@tools/deps.sh python
	$(PYTHON) tools/reference.py tests/fixtures
	$(PYTHON) tools/checkpoint_torch.py write-fixture tests/fixtures

clean:                                       ## remove build/ and the woven HTML
	rm -rf build docs/html

-include $(OBJS:.o=.d) $(TEST_OBJS:.o=.d) $(FUZZ_OBJS:.o=.d) $(FUZZ_BINS:=.d)
