#!/usr/bin/env bats
# stages: tools
# budget: 30
# parallel: tests
# What a machine needs, and what the lab does when it is missing: tests/deps is the one
# list (tests/tools/deps installs it for make test, setup.sh and the Dockerfile);
# bats-core is pinned and a known-bad one refused; a failed install shows the installer's
# own error and what to do; on a system other than Linux, make stops with one line.

load test_helper

DEPS="$EVLAB_TREE/tests/tools/deps"

# A folder of stand-ins, first in PATH: a bats-core $1 (version) and an npm that logs
# its arguments to $FAKE/npm.log and either fails as npm does or installs a bats-core of
# the version asked for into --prefix.
fake_tools() {
    FAKE=$BATS_TEST_TMPDIR/fake
    mkdir -p "$FAKE/bin"
    printf '#!/bin/sh\necho "Bats %s"\n' "$1" >"$FAKE/bin/bats"
    cat >"$FAKE/bin/npm" <<'NPM'
#!/bin/bash
echo "$*" >>"$(dirname "$0")/../npm.log"
if [[ -n ${FAKE_NPM_FAILS:-} ]]; then
    echo "npm ERR! code E404" >&2
    echo "npm ERR! 404 Not Found - GET https://registry.npmjs.org/bats - Not found" >&2
    exit 1
fi
while (($#)); do
    case $1 in --prefix) prefix=$2; shift ;; bats@*) version=${1#bats@} ;; esac
    shift
done
mkdir -p "$prefix/node_modules/bats/bin"
printf '#!/bin/sh\necho "Bats %s"\n' "$version" >"$prefix/node_modules/bats/bin/bats"
chmod +x "$prefix/node_modules/bats/bin/bats"
NPM
    chmod +x "$FAKE/bin/bats" "$FAKE/bin/npm"
    export PATH="$FAKE/bin:$PATH" EVLAB_DEPS_PREFIX=$FAKE/prefix
}

@test "tests/deps pins bats-core: a bad version on the machine is refused and the pinned one comes from npm" {
    local pin bad
    pin=$(sed -n 's/^bats \([0-9.]*\).*/\1/p' "$EVLAB_TREE/tests/deps")
    bad=$(sed -n 's/^bats-bad \([0-9.]*\).*/\1/p' "$EVLAB_TREE/tests/deps")
    [[ $pin == 1.12.0 && $bad == *1.13.0* ]] || false
    fake_tools 1.13.0
    run -1 "$DEPS" bats
    [[ $output == *"bats-core 1.13.0 is on tests/deps's bad list"* ]] || false
    run -0 "$DEPS" install
    echo "$output"
    [[ $(cat "$FAKE/npm.log") == *"--prefix $FAKE/prefix bats@$pin"* ]] || false
    run -0 "$DEPS" bats
    [[ ${lines[-1]} == "$FAKE/prefix/node_modules/bats/bin/bats" ]] || false
}

@test "a failed install prints the installer's own error and what to do, before make's last line" {
    fake_tools 1.13.0
    run -1 env FAKE_NPM_FAILS=1 "$DEPS" install
    echo "$output"
    [[ $output == *"npm ERR! 404 Not Found - GET https://registry.npmjs.org/bats"* ]] || false
    [[ $output == *"by hand: npm install --prefix $FAKE/prefix bats@1.12.0"* ]] || false
    # make test says the same, not only "make: *** [Makefile:NN: test] Error 1".
    run -2 env FAKE_NPM_FAILS=1 make -s --no-print-directory -C "$EVLAB_TREE" test STAGE=1
    echo "$output"
    [[ $output == *"npm ERR! 404"* && $output == *"bats@1.12.0"* ]] || false
}

@test "on a system other than Linux, make stops with one line that points to make shell" {
    local d
    for d in "$EVLAB_TREE" "$EVLAB_TREE/stage1-iterative"; do
        run -2 make --no-print-directory -C "$d" UNAME_S=Darwin
        echo "$output"
        ((${#lines[@]} == 1)) || false
        [[ $output == *"evlab needs Linux 5.6 or newer, and this is Darwin: run \`make shell\`"* ]] || false
    done
    # make shell itself runs there: without Docker or Podman it says so, in one line.
    run -2 make -s --no-print-directory -C "$EVLAB_TREE" shell UNAME_S=Darwin CONTAINER=
    [[ ${lines[0]} == "make shell needs Docker or Podman"* ]] || false
}

@test "the Dockerfile and the dev container install from tests/deps, with the same script as make test" {
    local f=$EVLAB_TREE/Dockerfile
    grep -q '^FROM debian:12$' "$f"
    grep -q '^COPY tests/deps ' "$f"
    grep -q '^COPY tests/tools/deps ' "$f"
    grep -q 'tests/tools/deps install --more' "$f"
    # Only those two files go into the build context.
    [[ $(grep -v '^#' "$EVLAB_TREE/.dockerignore" | tr '\n' ' ') == "* !tests/deps !tests/tools/deps " ]] || false
    command -v python3 >/dev/null || skip "python3 is not installed: it reads devcontainer.json"
    python3 -c 'import json, sys
d = json.load(open(sys.argv[1]))
assert d["build"]["dockerfile"] == "../Dockerfile", d
assert "--privileged" in d["runArgs"], d' "$EVLAB_TREE/.devcontainer/devcontainer.json"
}

@test "every package tests/deps names exists in Debian 12, the Dockerfile's system" {
    grep -q '^VERSION_ID="12"' /etc/os-release 2>/dev/null || skip "this machine is not Debian 12: its archive is not the Dockerfile's"
    command -v apt-cache >/dev/null || skip "apt-cache is missing"
    local packages missing
    packages=$("$DEPS" packages need want more | tr '\n' ' ')
    # One apt-cache for them all (one each takes seconds on a busy machine): a package it
    # has a candidate version of is in the archive.
    missing=$(apt-cache policy $packages 2>/dev/null | awk -v want="$packages" '
        /^[^ ].*:$/ { p = substr($0, 1, length($0) - 1) }
        /^ *Candidate:/ && $2 != "(none)" { ok[p] = 1 }
        END { n = split(want, w, " "); for (i = 1; i <= n; i++) if (!ok[w[i]]) printf "%s ", w[i] }')
    echo "looked for: $packages"
    echo "not in Debian 12's archive: ${missing:-none}"
    [[ -z $missing ]] || false
}
