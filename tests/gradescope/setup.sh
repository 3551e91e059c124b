#!/usr/bin/env bash
# Gradescope runs this once, as root, when it builds the autograder's image (Ubuntu): it
# installs what tests/deps lists (bats-core pinned, from npm) and builds the test tools.
# make autograder put it at the root of autograder.zip, beside run_autograder and evlab/.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# Unzipping may not keep the execute bits.
chmod +x "$here/run_autograder" "$here/evlab/tests/grade" "$here/evlab/tests/run" "$here/evlab/tests/tools"/{deps,build,grade-report,check-results}
"$here/evlab/tests/tools/deps" install
"$here/evlab/tests/tools/build"
echo "evlab autograder: set up ($("$here/evlab/tests/tools/deps" bats) --version: $("$("$here/evlab/tests/tools/deps" bats)" --version))"
