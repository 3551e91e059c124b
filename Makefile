# evlab: build, run and test the lab's stages.
#
#   make                     build every stage present
#   make run STAGE=1         run stage 1's server on 127.0.0.1:8080 in the foreground
#                            (stages 3 to 5 serve the sample site in www/)
#   make bench               build everything and run the experiment (under 5 minutes);
#                            FULL=1 for the whole set, SMOKE=1 for a few seconds
#   make test [STAGE=N]      build and test every stage, or only stage N (another stage's
#                            compile error cannot stop it); installs bats if missing.
#                            FILE=stage5 one test file, FILTER=regex the tests it names,
#                            LOAD=1 beside a CPU hog on every core
#   make stress [STAGE=N]    each server under heavy and hostile load, a few minutes; figures
#   make memcheck [STAGE=N]  the tests with every server under valgrind (or $(VALGRIND)): no leak, no error
#   make grade SUBMISSION=DIR [STAGE=N]    grade a student's tree: a score per stage,
#                            grade-results/results.json (Gradescope) and junit.xml
#   make diff FROM=2 TO=3    what stage 3 adds to stage 2 (the diff students study): the
#                            code; DOCS=1 adds the handouts' prose after it; FROM and TO
#                            may be two files (stage3-files/server.c stage6-bench/epoll_server.c)
#   make shell               a shell in the lab's Linux (Debian 12, Dockerfile) with this folder
#                            at /evlab: for macOS and Windows; needs Docker or Podman
#   make clean
# BEGIN INSTRUCTOR (make handout leaves these lines out of the students' tree)
#   make handout [STAGE=N] [CUT_PAST=1] [HANDOUT=DIR]   cut a students' tree: every stage
#                            (default ../evlab-starter), or week N's release (stages
#                            before N as the reference, or cut too; ../evlab-stageN)
#   make fuzz [FUZZ_SECS=60]   libFuzzer on the HTTP parser and stage 3's path resolution
#   make mutants [STAGE=N] [MUTANTS="a b"]   grade each typical student bug of
#                            tests/mutants/ (a patch each): which the tests catch (long)
#   make autograder [STAGE=N] [AUTOGRADER=autograder.zip] [AUTOGRADER_TIME=540]   the
#                            Gradescope bundle: setup.sh, run_autograder and the tests;
#                            grades stage N (default: every stage) of each submission
#   make lint                  static checks: clang-format, clang-tidy (.clang-tidy), cppcheck,
#                            shellcheck, handout markers
# END INSTRUCTOR
#
# CC=clang and SANITIZE=address,undefined are passed down to every stage.

include common/linux.mk

STAGE_DIRS := $(sort $(wildcard stage[1-6]-*))
STAGE_DIR   = $(firstword $(wildcard stage$(STAGE)-*))
PORT       ?= 8080

export CC SANITIZE

all: $(STAGE_DIRS)

# BEGIN INSTRUCTOR
# The reference marks what students write (BEGIN STUDENT ... END STUDENT): a marker out
# of place would cut a broken handout, so it stops the build.
all test stress: markers
markers:
	@tests/tools/handout --check
# END INSTRUCTOR

$(STAGE_DIRS):
	$(MAKE) -C $@

run:
	@test -n "$(STAGE)" || { echo "make run needs STAGE=N (1 to 5)"; exit 2; }
	@test -n "$(STAGE_DIR)" || { echo "no stage$(STAGE)-* folder"; exit 2; }
	$(MAKE) -C $(STAGE_DIR)
	$(STAGE_DIR)/server -a 127.0.0.1 -p $(PORT) $(if $(filter 3 4 5,$(STAGE)),-r www) $(RUN_FLAGS)

# Each stage is built by tests/run before its tests: a stage that does not build fails
# its own tests and stops no other. FILE=name runs one test file (tests/name.bats),
# FILTER=regex only the tests whose names match it (both with or without STAGE); LOAD=1
# runs the tests beside a CPU hog on every core (a busy machine).
test:
	tests/run $(if $(FILE),--file $(FILE)) $(if $(FILTER),--filter "$$FILTER") $(if $(LOAD),--load) $(STAGE)

# The soaks measure: one file at a time, so that their figures are each server's own.
stress: all
	EVLAB_SUITE=stress EVLAB_JOBS=$${EVLAB_JOBS:-1} tests/run $(if $(FILE),--file $(FILE)) $(STAGE)

# valgrind and the sanitizers cannot share a process: a plain build. valgrind slows each
# server tenfold: two files at a time.
memcheck:
	$(MAKE) all SANITIZE=
	MEMCHECK=1 TOOLS_TESTS=no EVLAB_JOBS=$${EVLAB_JOBS:-2} tests/run $(if $(FILE),--file $(FILE)) $(STAGE)

bench: all
	@test -d stage6-bench || { echo "make bench needs stage6-bench/ (stage 6's release)"; exit 2; }
	tests/tools/deps install --no-bats
	tests/tools/build
	stage6-bench/bench $(if $(SMOKE),smoke,$(if $(FULL),full,quick))

grade:
	@test -n "$(SUBMISSION)" || { echo "make grade needs SUBMISSION=DIR (a tree with stageN-* folders)"; exit 2; }
	tests/grade $(SUBMISSION) $(STAGE)

# BEGIN INSTRUCTOR
C_FILES  = $(wildcard common/*.[ch] stage[1-6]-*/*.[ch]) tests/tools/slowfs.c tests/tools/shortio.c tests/tools/faults.c tests/tools/sigsafe.c $(wildcard tests/fuzz/*.c)
SH_FILES = tests/run tests/grade tests/test_helper.bash tests/tools/build tests/tools/handout tests/tools/timing tests/mutants/run \
           tests/tools/deps tests/gradescope/bundle tests/gradescope/setup.sh tests/gradescope/run_autograder \
           stage6-bench/bench stage6-bench/report stage6-bench/nginx_server .ci/run

# Stage 3's file rules (path.c, path.h) have one text: stages 4 and 5 keep them as they
# are, and stage 6 builds from stage 3's own.
SAME_FILES = $(foreach s,stage4-aio stage5-signals,$(foreach f,path.c path.h,stage3-files/$(f):$(s)/$(f)))

lint:
	tests/tools/handout --check
	@for pair in $(SAME_FILES); do \
		cmp -s "$${pair%%:*}" "$${pair#*:}" || { echo "lint: $${pair#*:} differs from $${pair%%:*} (stage 3's file rules have one text: copy it over)"; exit 1; }; done
	clang-format --dry-run -Werror $(C_FILES)
	shellcheck -S warning $(SH_FILES)
	shellcheck -S warning -s bash -e SC2154 tests/*.bats # SC2154: bats sets $$stderr
	cppcheck --quiet --error-exitcode=1 --enable=warning,performance,portability --std=c11 \
		--suppress=missingIncludeSystem -Icommon common stage[1-6]-* tests/tools/slowfs.c tests/tools/shortio.c tests/tools/faults.c tests/tools/sigsafe.c
	for f in $(filter %.c,$(C_FILES)); do \
		clang-tidy --quiet $$f -- -std=gnu11 -Icommon -D_GNU_SOURCE \
			$$(pkg-config --cflags fuse3 2>/dev/null) 2>/dev/null || exit 1; done

fuzz:
	$(MAKE) -C tests/fuzz run

# The catalogue of typical student bugs, each graded: which does the grader miss?
mutants:
	MUTANTS="$(MUTANTS)" tests/mutants/run $(STAGE)

autograder:
	tests/gradescope/bundle $(or $(AUTOGRADER),autograder.zip) $(STAGE)

handout:
	tests/tools/handout $(if $(STAGE),-s $(STAGE)) $(if $(CUT_PAST),-p) $(HANDOUT)

# make diff leaves the handout markers out of the reference's diffs (the students' trees
# have none).
UNMARK = /BEGIN STUDENT\|END STUDENT\|\/\* STUB:/d
# END INSTRUCTOR

# The code first (sources and Makefile, without the handout markers); the handouts'
# prose (README.md) only with DOCS=1, after it.
diff:
	@test -n "$(FROM)" -a -n "$(TO)" || { echo "make diff needs FROM=N TO=M (stages), or FROM=FILE TO=FILE"; exit 2; }
	@if test -f "$(FROM)" -a -f "$(TO)"; then \
		tmp=$$(mktemp -d); trap 'rm -rf "$$tmp"' EXIT; \
		$(if $(UNMARK),sed '$(UNMARK)',cat) "$(FROM)" >"$$tmp/from"; \
		$(if $(UNMARK),sed '$(UNMARK)',cat) "$(TO)" >"$$tmp/to"; \
		diff -u --label "$(FROM)" --label "$(TO)" "$$tmp/from" "$$tmp/to"; test $$? -le 1; exit; fi; \
	from=$$(ls -d stage$(FROM)-* 2>/dev/null); to=$$(ls -d stage$(TO)-* 2>/dev/null); \
	test -n "$$from" -a -n "$$to" || { echo "make diff: FROM=$(FROM) TO=$(TO) are neither two stages with folders nor two files"; exit 2; }; \
	tmp=$$(mktemp -d); trap 'rm -rf "$$tmp"' EXIT; \
	cp -r "$$from" "$$to" "$$tmp/"; \
	$(if $(UNMARK),find "$$tmp" -name '*.[ch]' -exec sed -i '$(UNMARK)' {} +;) \
	cd "$$tmp" && { diff -ruN -x .build-flags -x server -x '*.o' -x '*.md' "$$from" "$$to" || test $$? = 1; } && \
	if test -n "$(DOCS)"; then diff -u "$$from/README.md" "$$to/README.md" || test $$? = 1; fi

# --privileged: FUSE (slowfs) and strace; the descriptor limit for the load tests.
CONTAINER ?= $(shell command -v docker || command -v podman)
shell:
	@test -n "$(CONTAINER)" || { echo "make shell needs Docker or Podman (or open this folder in VS Code's dev container, .devcontainer/)"; exit 2; }
	$(CONTAINER) build -t evlab .
	$(CONTAINER) run --rm -it --privileged --ulimit nofile=65536:65536 -v "$(CURDIR)":/evlab -w /evlab evlab bash

clean:
	for d in $(STAGE_DIRS) $(wildcard tests/tools tests/fuzz); do $(MAKE) -C $$d clean || exit 1; done

.PHONY: all markers run test stress memcheck bench lint fuzz mutants grade autograder handout diff shell clean $(STAGE_DIRS)
