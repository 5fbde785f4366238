// Prints vitest's JSON report as the one closing line CI reads, and fails the
// run unless every test passed, none was skipped, and both the unit and the
// e2e suites actually ran (a run that silently dropped the cluster tests is red).
import { readFileSync } from 'node:fs';

interface Report {
  numPassedTests: number;
  numFailedTests: number;
  numPendingTests: number;
  numTodoTests: number;
  numFailedTestSuites: number;
  testResults: { name: string; assertionResults: { status: string }[] }[];
}

const file = process.argv[2] ?? '.runbox-dev/vitest.json';
const report = JSON.parse(readFileSync(file, 'utf8')) as Report;
const skipped = report.numPendingTests + report.numTodoTests;
const ran = (dir: RegExp) =>
  report.testResults
    .filter((f) => dir.test(f.name))
    .reduce((n, f) => n + f.assertionResults.filter((a) => a.status === 'passed' || a.status === 'failed').length, 0);
const e2e = ran(/\/test\/e2e\//);
const unit = ran(/\/(src|sidecar|controller)\//);
console.log(`tests: ${report.numPassedTests} passed, ${report.numFailedTests} failed, ${skipped} skipped`);
const problems = [
  ...(report.numFailedTests > 0 || report.numFailedTestSuites > 0 ? ['some tests failed'] : []),
  ...(skipped > 0 ? [`${skipped} tests were skipped; npm test runs every test`] : []),
  ...(e2e === 0 ? ['no e2e test ran'] : []),
  ...(unit === 0 ? ['no unit test ran'] : []),
];
for (const p of problems) console.error(`test summary: ${p}`);
process.exit(problems.length > 0 ? 1 : 0);
