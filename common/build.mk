# build.mk - the rules every stage's Makefile includes, after setting PROGS
# (the programs to build, each from PROG.c) and optionally SRCS_prog, LDLIBS.
#
#   make                      build with gcc, -O2 -g, warnings as errors
#   make CC=clang             the same with clang
#   make SANITIZE=address,undefined    with sanitizers (and run that way)
#
# Changing CC, CFLAGS or SANITIZE rebuilds everything: the flags are
# remembered in .build-flags and every program depends on that file.

COMMON   := ../common
include $(COMMON)/linux.mk
CC       ?= cc
CFLAGS   ?= -O2 -g
# override: `make CFLAGS=-O0` replaces the optimisation, never the flags the lab needs.
override CFLAGS += -std=gnu11 -Wall -Wextra -Werror -I$(COMMON)
ifneq ($(SANITIZE),)
override CFLAGS  += -fsanitize=$(SANITIZE) -fno-omit-frame-pointer -fno-sanitize-recover=all
override LDFLAGS += -fsanitize=$(SANITIZE)
endif

COMMON_SRCS := $(COMMON)/err.c $(COMMON)/net.c $(COMMON)/http.c $(COMMON)/http_reply.c \
               $(COMMON)/clock.c
COMMON_HDRS := $(COMMON)/err.h $(COMMON)/net.h $(COMMON)/http.h $(COMMON)/clock.h

all: $(PROGS)

# Every program is compiled from its own .c, its extra sources and common/ in one step.
.SECONDEXPANSION:
$(PROGS): %: %.c $$(SRCS_$$*) $(COMMON_SRCS) $(COMMON_HDRS) $$(HDRS_$$*) .build-flags
	$(CC) $(CFLAGS) -o $@ $< $(SRCS_$@) $(COMMON_SRCS) $(LDFLAGS) $(LDLIBS)

.build-flags: FORCE
	@echo '$(CC) $(CFLAGS) $(LDFLAGS) $(LDLIBS)' | cmp -s - $@ || \
		echo '$(CC) $(CFLAGS) $(LDFLAGS) $(LDLIBS)' > $@

clean:
	rm -f $(PROGS) .build-flags

FORCE:
.PHONY: all clean FORCE
