import assert from 'node:assert/strict';
import path from 'node:path';
import { describe, it } from 'node:test';

import { CLI, ROOT, run } from '../support/tools.js';

// --help, a flag error and version must not pay for what only API commands use:
// client-node, yaml, cli-table3, or our ops, kube and helm modules (start-up time).
const HEAVY =
  /@kubernetes\/client-node|\/node_modules\/yaml\/|cli-table3|\/dist\/ops\/|\/dist\/kube\/(?!config\.js)|\/dist\/helm\//;

function loaded(args: string[]): { status: number | null; urls: string[] } {
  const r = run(process.execPath, [
    '--import',
    path.join(ROOT, 'test/support/trace-imports.mjs'),
    CLI,
    ...args,
  ]);
  const urls = [...r.stderr.matchAll(/^LOADED (.*)$/gm)].map((m) => m[1]!);
  return { status: r.status, urls };
}

describe('what the npm install loads before it needs to', () => {
  for (const args of [['--help'], ['endpoints', '--help'], ['scale', '--help'], ['endpoints', '--bogus']]) {
    it(`${args.join(' ')} loads no API, helm, yaml or table module`, () => {
      const { status, urls } = loaded(args);
      assert.equal(status, args.includes('--bogus') ? 2 : 0);
      assert.ok(
        urls.some((u) => u.endsWith('/dist/commands/endpoints.js')),
        'the trace works',
      );
      assert.deepEqual(
        urls.filter((u) => HEAVY.test(u)),
        [],
      );
    });
  }

  it('an API command does load them (the trace would see a regression)', () => {
    const { urls } = loaded([
      'endpoints',
      '--kubeconfig',
      '/nonexistent',
      '-n',
      'x',
      '--request-timeout',
      '1s',
    ]);
    assert.ok(urls.some((u) => u.includes('/dist/ops/endpoints.js')));
    assert.ok(urls.some((u) => u.includes('@kubernetes/client-node')));
  });
});
