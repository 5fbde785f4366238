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

// Several runs (the restart-path variant runs apart) count as one.
const files = process.argv.length > 2 ? process.argv.slice(2) : ['.runbox-dev/vitest.json'];
const reports = files.map((f) => {
  try {
    return JSON.parse(readFileSync(f, 'utf8')) as Report;
  } catch {
    console.error(`test summary: no report in ${f}: that run did not finish`);
    return { numPassedTests: 0, numFailedTests: 0, numPendingTests: 0, numTodoTests: 0, numFailedTestSuites: 1, testResults: [] };
  }
});
const sum = (k: keyof Omit<Report, 'testResults'>) => reports.reduce((n, r) => n + r[k], 0);
const report: Report = {
  numPassedTests: sum('numPassedTests'),
  numFailedTests: sum('numFailedTests'),
  numPendingTests: sum('numPendingTests'),
  numTodoTests: sum('numTodoTests'),
  numFailedTestSuites: sum('numFailedTestSuites'),
  testResults: reports.flatMap((r) => r.testResults),
};
const skipped = report.numPendingTests + report.numTodoTests;
const ran = (dir: RegExp) =>
  report.testResults
    .filter((f) => dir.test(f.name))
    .reduce((n, f) => n + f.assertionResults.filter((a) => a.status === 'passed' || a.status === 'failed').length, 0);
const e2e = ran(/\/test\/e2e\//);
const restartPath = ran(/\/test\/e2e-restart\//);
const unit = ran(/\/(src|sidecar|controller)\//);
console.log(`tests: ${report.numPassedTests} passed, ${report.numFailedTests} failed, ${skipped} skipped`);
const problems = [
  ...(report.numFailedTests > 0 || report.numFailedTestSuites > 0 ? ['some tests failed'] : []),
  ...(skipped > 0 ? [`${skipped} tests were skipped; npm test runs every test`] : []),
  ...(e2e === 0 ? ['no e2e test ran'] : []),
  ...(files.length > 1 && restartPath === 0 ? ['no restart-path test ran'] : []),
  ...(unit === 0 ? ['no unit test ran'] : []),
];
for (const p of problems) console.error(`test summary: ${p}`);
process.exit(problems.length > 0 ? 1 : 0);
