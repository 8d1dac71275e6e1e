/**
 * The chart through a peer's linter: kube-score (built from its Go module by
 * scripts/install-tools.sh) on the default render and on every ci/ scenario.
 * No CRITICAL may stand unless the object silences that check with a
 * kube-score/ignore annotation; every ignore is a check kube-score knows,
 * carries a comment in the template saying why, and is listed in the chart
 * README. The WARNINGs left are listed there too.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';

import { render, template } from '../support/chart.js';
import { CHART, HELMS, run, TOOLS } from '../support/tools.js';

const SCENARIOS = ['', ...readdirSync(path.join(CHART, 'ci')).filter((f) => f.endsWith('.yaml'))];
const README = readFileSync(path.join(CHART, 'README.md'), 'utf8');
const helm = HELMS[1].path;

/** kube-score's verdicts on a render: "[CRITICAL] name/ns kind: message" lines, as its ci output prints them. */
function score(manifests: string): string[] {
  const r = run(TOOLS.KUBE_SCORE, ['score', '--output-format', 'ci', '-'], { input: manifests });
  // kube-score exits 1 when it finds a CRITICAL; anything else is a failure to run.
  assert.ok(r.status === 0 || r.status === 1, `kube-score failed (${String(r.status)}): ${r.stderr}`);
  return r.stdout.split('\n').filter(Boolean);
}

const known = new Set(
  run(TOOLS.KUBE_SCORE, ['list'])
    .stdout.split('\n')
    .map((l) => l.split(',')[0] ?? '')
    .filter(Boolean),
);

describe('kube-score v1.20.0 on the chart', () => {
  for (const file of SCENARIOS) {
    it(`${file || 'the default render'}: no CRITICAL that is neither fixed nor silenced`, () => {
      const r = template(helm, file ? ['-f', path.join(CHART, 'ci', file)] : []);
      assert.equal(r.status, 0, r.stderr);
      const critical = score(r.stdout).filter((l) => l.startsWith('[CRITICAL]'));
      assert.deepEqual(critical, []);
    });
  }

  it('it does find CRITICALs: with the ignores turned off, the silenced checks come back', () => {
    const r = template(helm);
    const raw = run(
      TOOLS.KUBE_SCORE,
      ['score', '--output-format', 'ci', '--disable-ignore-checks-annotations', '-'],
      {
        input: r.stdout,
      },
    );
    assert.equal(raw.status, 1, 'exit 1: a CRITICAL found');
    assert.match(
      raw.stdout,
      /^\[CRITICAL\] r-expose-pods-0\/game v1\/Service: The services selector does not match any pods$/m,
    );
  });

  it('every ignore names a check kube-score knows, says why in its template, and is listed in the chart README', () => {
    const ignored = new Set<string>();
    for (const file of SCENARIOS)
      for (const o of render(helm, file ? ['-f', path.join(CHART, 'ci', file)] : []))
        for (const id of (o.metadata.annotations?.['kube-score/ignore'] ?? '').split(',').filter(Boolean))
          ignored.add(id);
    assert.ok(ignored.size > 0);
    for (const id of ignored) {
      assert.ok(known.has(id), `${id} is not a kube-score check`);
      assert.match(
        README,
        new RegExp(`^\\| [^|]*\`${id}\`[^|]*\\|`, 'm'),
        `${id} is not listed in the chart README`,
      );
    }
    // In the templates, each ignore line follows comment lines that name every check it silences.
    const dir = path.join(CHART, 'templates');
    for (const f of readdirSync(dir, { recursive: true }) as string[]) {
      if (!f.endsWith('.yaml')) continue;
      const lines = readFileSync(path.join(dir, f), 'utf8').split('\n');
      lines.forEach((line, i) => {
        const m = /^\s*kube-score\/ignore: (.+)$/.exec(line);
        if (!m?.[1]) return;
        let j = i - 1;
        const comments: string[] = [];
        // Comments, and the branches of a conditional ignore (its alternatives share the comments above them).
        while (j >= 0 && /^\s*(#|\{\{-? (if|else|end)|kube-score\/ignore:)/.test(lines[j] ?? ''))
          comments.unshift(lines[j--] ?? '');
        const why = comments.filter((c) => c.trim().startsWith('#')).join('\n');
        for (const id of m[1].split(','))
          assert.match(
            why,
            new RegExp(`kube-score .*${id}|${id}`),
            `${f}:${i + 1}: no comment says why ${id} is ignored`,
          );
      });
    }
  });

  it('the WARNINGs left are the ones the chart README lists', () => {
    const warned = new Set<string>();
    for (const file of SCENARIOS) {
      const r = template(helm, file ? ['-f', path.join(CHART, 'ci', file)] : []);
      for (const l of score(r.stdout).filter((x) => x.startsWith('[WARNING]')))
        warned.add(l.replace(/^\[WARNING\] [^ ]+ [^:]+: (\([^)]*\) )?/, ''));
    }
    for (const w of warned) assert.ok(README.includes(w), `the chart README does not list the warning: ${w}`);
  });
});
