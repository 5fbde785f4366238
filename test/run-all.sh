#!/usr/bin/env bash
# npm test: installs what is missing, brings the dev cluster up (or reuses it),
# then runs the unit and e2e tests in one vitest run and prints one closing
# line `tests: N passed, N failed, N skipped`.
set -euo pipefail
cd "$(dirname "$0")/.."
bash test/ensure-node-modules.sh
export PATH="$PWD/node_modules/.bin:$PATH"
npm run -s build && npm run -s typecheck
bash test/cluster/up.sh
mkdir -p .runbox-dev
rc=0
vitest run --reporter=default --reporter=json --outputFile.json=.runbox-dev/vitest.json "$@" || rc=$?
node test/summary.ts .runbox-dev/vitest.json || rc=1
exit $rc
