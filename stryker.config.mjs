// StrykerJS: mutation testing of src/core against the unit tests.
// Run it with `npm run test:mutation` (scripts/mutation.ts), which supplies
// the Node 22+ that Stryker needs; the scores are kept in bench/MUTATION.md.
/** @type {import('@stryker-mutator/api/core').PartialStrykerOptions} */
export default {
  testRunner: 'tap',
  tap: {
    testFiles: ['test/unit/*.test.ts'],
    // Each test file runs alone in a fresh node, compiled by tsx, reporting TAP.
    nodeArgs: ['--import', 'tsx', '--test-reporter=tap'],
    forceBail: true,
  },
  // Per test file: a mutant runs only the files that reached it.
  coverageAnalysis: 'perTest',
  mutate: ['src/core/**/*.ts'],
  ignorePatterns: ['dist', 'build', 'reports', 'bench', 'test/e2e', 'test/cluster', '.ci'],
  reporters: ['clear-text', 'html', 'json', 'progress'],
  htmlReporter: { fileName: 'reports/mutation/index.html' },
  jsonReporter: { fileName: 'reports/mutation/mutation.json' },
  // Some unit tests wait for real timers (the lock's lapse, progress polls).
  timeoutMS: 20000,
  tempDirName: 'build/stryker-tmp',
  cleanTempDir: 'always',
};
