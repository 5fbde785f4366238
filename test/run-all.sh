#!/usr/bin/env bash
# npm test: installs what is missing, brings the dev cluster up (or reuses it),
# runs the unit and e2e tests, then switches the dev cluster to the variant
# without in-place resize (a cold restart) and runs the restart-path tests
# there. Prints one closing line `tests: N passed, N failed, N skipped`.
set -euo pipefail
cd "$(dirname "$0")/.."
bash test/ensure-node-modules.sh
export PATH="$PWD/node_modules/.bin:$PATH"
npm run -s build && npm run -s typecheck
bash test/cluster/up.sh
mkdir -p .runbox-dev
rm -f .runbox-dev/vitest*.json
rc=0
vitest run --project unit --project e2e --reporter=default --reporter=json --outputFile.json=.runbox-dev/vitest.json "$@" || rc=$?
RUNBOX_DEV_VARIANT=no-inplace-resize bash test/cluster/up.sh || rc=1
vitest run --project restart-path --reporter=default --reporter=json --outputFile.json=.runbox-dev/vitest-restart.json "$@" || rc=$?
node test/summary.ts .runbox-dev/vitest.json .runbox-dev/vitest-restart.json || rc=1
exit $rc
