// StrykerJS: mutation testing of src/core against the unit tests.
// Run it with `npm run test:mutation` (scripts/mutation.ts), which supplies
// the Node 22+ that Stryker needs; the scores are kept in bench/MUTATION.md.
/** @type {import('@stryker-mutator/api/core').PartialStrykerOptions} */
export default {
  testRunner: 'tap',
  tap: {
    testFiles: ['test/unit/*.test.ts'],
    // Each test file runs alone in a fresh node, compiled by tsx, reporting TAP.
    // Stryker makes its sandbox with mkdtemp (mode 0700), and one unit test runs
    // the CLI from it as nobody (certs.test.ts, an unreadable --pki-dir): opened up to 0755.
    nodeArgs: [
      '--import',
      "data:text/javascript,import{chmodSync}from'node:fs';chmodSync(process.cwd(),0o755)",
      '--import',
      'tsx',
      '--test-reporter=tap',
    ],
    forceBail: true,
  },
  // tsx strips the types and checks none, so no file needs the `// @ts-nocheck` Stryker
  // would prepend to every .ts file it copies: the sandbox's files stay the repository's
  // (layers.test.ts lints real source, and ban-ts-comment reports that header).
  disableTypeChecks: false,
  // Per test file: a mutant runs only the files that reached it.
  coverageAnalysis: 'perTest',
  mutate: ['src/core/**/*.ts'],
  // dist/ is kept: a few unit tests run the built CLI (npm run test:mutation builds it first); they see no mutant.
  ignorePatterns: ['/build', '/reports', '/bench', '/test/e2e', '/.ci'],
  reporters: ['clear-text', 'html', 'json', 'progress'],
  htmlReporter: { fileName: 'reports/mutation/index.html' },
  jsonReporter: { fileName: 'reports/mutation/mutation.json' },
  // Some unit tests wait for real timers (the lock's lapse, progress polls).
  timeoutMS: 20000,
  // The initial run is every unit test file once (about 2 minutes on 2 quiet cores); Stryker's default
  // limit of 5 minutes failed it on a loaded machine (a bench and a second mutation run beside it, nice 19).
  dryRunTimeoutMinutes: 30,
  tempDirName: 'build/stryker-tmp',
  cleanTempDir: 'always',
};
