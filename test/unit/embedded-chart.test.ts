import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, readFileSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';

import {
  embeddedChartPath,
  unpackChart,
  userCacheDir,
  type ChartBundle,
} from '../../src/helm/embedded-chart.js';

const bundle = (files: Record<string, string>): string =>
  JSON.stringify({ name: 'expose-pods', files } satisfies ChartBundle);

describe('the embedded chart (single executable)', () => {
  it('unpacks every file under <cache>/chart-<digest>/expose-pods, private to the user', async () => {
    const cache = path.join(mkdtempSync(path.join(os.tmpdir(), 'expose-pods-cache-')), 'c');
    const dir = await unpackChart(
      bundle({ 'Chart.yaml': 'name: expose-pods\n', 'templates/a.yaml': 'a' }),
      cache,
    );
    assert.match(dir, new RegExp(`^${cache}/chart-[0-9a-f]{16}/expose-pods$`));
    assert.equal(readFileSync(path.join(dir, 'templates/a.yaml'), 'utf8'), 'a');
    assert.equal(statSync(cache).mode & 0o777, 0o700);
    assert.deepEqual(
      readdirSync(cache).filter((n) => n.startsWith('.unpack-')),
      [],
      'no temp dir left',
    );
  });

  it('reuses the copy of the same chart, and a changed chart gets a new directory', async () => {
    const cache = mkdtempSync(path.join(os.tmpdir(), 'expose-pods-cache-'));
    const text = bundle({ 'Chart.yaml': 'v1' });
    const first = await unpackChart(text, cache);
    assert.equal(await unpackChart(text, cache), first);
    const second = await unpackChart(bundle({ 'Chart.yaml': 'v2' }), cache);
    assert.notEqual(second, first);
    assert.equal(readFileSync(path.join(second, 'Chart.yaml'), 'utf8'), 'v2');
  });

  it('concurrent runs both get a whole chart', async () => {
    const cache = mkdtempSync(path.join(os.tmpdir(), 'expose-pods-cache-'));
    const files = Object.fromEntries(Array.from({ length: 40 }, (_, i) => [`templates/t${i}.yaml`, `t${i}`]));
    const text = bundle({ 'Chart.yaml': 'c', ...files });
    const dirs = await Promise.all(Array.from({ length: 4 }, () => unpackChart(text, cache)));
    assert.equal(new Set(dirs).size, 1);
    assert.equal(readdirSync(path.join(dirs[0]!, 'templates')).length, 40);
    assert.deepEqual(
      readdirSync(cache).filter((n) => n.startsWith('.unpack-')),
      [],
    );
  });

  it('refuses a path that leaves the chart', async () => {
    const cache = mkdtempSync(path.join(os.tmpdir(), 'expose-pods-cache-'));
    await assert.rejects(unpackChart(bundle({ '../evil': 'x' }), cache), /bad chart path \.\.\/evil/);
    assert.equal(existsSync(path.join(cache, 'evil')), false);
  });

  it('the cache directory each platform expects', () => {
    const home = os.homedir();
    assert.equal(userCacheDir({}, 'linux'), path.join(home, '.cache/kubectl-expose-pods'));
    assert.equal(userCacheDir({ XDG_CACHE_HOME: '/x' }, 'linux'), '/x/kubectl-expose-pods');
    assert.equal(userCacheDir({}, 'darwin'), path.join(home, 'Library/Caches/kubectl-expose-pods'));
    assert.equal(userCacheDir({ LOCALAPPDATA: '/l' }, 'win32'), path.join('/l', 'kubectl-expose-pods'));
  });

  it('outside a single executable there is no embedded chart', async () => {
    assert.equal(await embeddedChartPath(), undefined);
  });
});
