# linux.mk - included by the top Makefile and by every stage's (through build.mk): the
# lab is Linux's (openat2 from Linux 5.6, /proc, FUSE). Elsewhere make stops here with
# one line instead of a page of compiler errors; make shell still runs (the container).
UNAME_S ?= $(shell uname -s)
ifneq ($(UNAME_S),Linux)
ifeq ($(filter shell,$(MAKECMDGOALS)),)
$(error evlab needs Linux 5.6 or newer, and this is $(UNAME_S): run `make shell` (Docker or Podman) or open the folder in its dev container, as README.md says under "Requirements")
endif
endif
