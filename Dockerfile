# The lab's Linux, for macOS and Windows (and any machine without Linux 5.6): Debian 12
# with everything tests/deps lists, installed by the same script make test uses.
#
#   make shell        builds this image and opens a shell in it, this folder at /evlab
#   .devcontainer/    the same image for VS Code's "Reopen in Container" and Codespaces
#
# FUSE (slowfs) and strace need the container to run with --privileged (make shell and
# the dev container do); the rest works without.
FROM debian:12
ENV DEBIAN_FRONTEND=noninteractive \
    EVLAB_DEPS=/opt/evlab/tests/deps \
    EVLAB_DEPS_PREFIX=/opt/evlab/.tools
COPY tests/deps /opt/evlab/tests/deps
COPY tests/tools/deps /opt/evlab/tests/tools/deps
RUN apt-get update \
    && /opt/evlab/tests/tools/deps install --more \
    && rm -rf /var/lib/apt/lists/* /root/.npm
WORKDIR /evlab
CMD ["bash"]
