import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import {
  chmodSync,
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';

import {
  embeddedChartPath,
  unpackChart,
  userCacheDir,
  type ChartBundle,
} from '../../src/helm/embedded-chart.js';
import { ROOT } from '../support/tools.js';

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

  describe('a cached copy is used only when it is whole, unchanged and private', () => {
    const files = { 'Chart.yaml': 'name: expose-pods\n', 'templates/a.yaml': 'a' };
    const text = bundle(files);
    /** A cache with the chart unpacked, then changed by `tamper`; what the next run gets. */
    const afterTamper = async (tamper: (dir: string) => void) => {
      const cache = mkdtempSync(path.join(os.tmpdir(), 'expose-pods-cache-'));
      const cached = await unpackChart(text, cache);
      tamper(cached);
      return { cached, got: await unpackChart(text, cache) };
    };
    const assertFresh = ({ cached, got }: { cached: string; got: string }) => {
      assert.notEqual(got, cached, 'the tampered copy is not used');
      assert.equal(readFileSync(path.join(got, 'templates/a.yaml'), 'utf8'), 'a');
      assert.deepEqual(readdirSync(path.join(got, 'templates')), ['a.yaml']);
      assert.equal(statSync(path.dirname(got)).mode & 0o077, 0, 'the fresh copy is private');
    };

    it('files and directories are created private whatever the umask', async () => {
      const old = process.umask(0o002);
      try {
        const dir = await unpackChart(text, mkdtempSync(path.join(os.tmpdir(), 'expose-pods-cache-')));
        assert.equal(statSync(path.join(dir, 'templates')).mode & 0o777, 0o700);
        assert.equal(statSync(path.join(dir, 'templates/a.yaml')).mode & 0o777, 0o600);
        assert.equal(await unpackChart(text, path.dirname(path.dirname(dir))), dir, 'and reused');
      } finally {
        process.umask(old);
      }
    });

    it('a planted template', async () => {
      assertFresh(await afterTamper((d) => writeFileSync(path.join(d, 'templates/evil.yaml'), 'kind: Pod')));
    });

    it('an edited template', async () => {
      assertFresh(await afterTamper((d) => writeFileSync(path.join(d, 'templates/a.yaml'), 'b')));
    });

    it('a missing file (half a copy)', async () => {
      assertFresh(await afterTamper((d) => rmSync(path.join(d, 'templates/a.yaml'))));
    });

    it('a symlink in place of a file', async () => {
      assertFresh(
        await afterTamper((d) => {
          const target = path.join(mkdtempSync(path.join(os.tmpdir(), 'expose-pods-elsewhere-')), 'a.yaml');
          writeFileSync(target, 'a');
          rmSync(path.join(d, 'templates/a.yaml'));
          symlinkSync(target, path.join(d, 'templates/a.yaml'));
        }),
      );
    });

    it('a directory others may write to', async () => {
      assertFresh(await afterTamper((d) => chmodSync(path.join(d, 'templates'), 0o777)));
    });
  });

  it('a private copy (the cache was not intact) is removed when the process exits', () => {
    // In a process of its own: the removal is on its exit.
    const script = `
      import { mkdtempSync, writeFileSync } from 'node:fs';
      import os from 'node:os';
      import path from 'node:path';
      import { unpackChart } from ${JSON.stringify(path.join(ROOT, 'src/helm/embedded-chart.ts'))};
      const text = ${JSON.stringify(bundle({ 'Chart.yaml': 'x', 'templates/a.yaml': 'a' }))};
      const cache = mkdtempSync(path.join(os.tmpdir(), 'expose-pods-cache-'));
      const cached = await unpackChart(text, cache);
      writeFileSync(path.join(cached, 'templates/a.yaml'), 'tampered');
      const got = await unpackChart(text, cache);
      console.log(JSON.stringify({ cached, got }));
    `;
    const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
      encoding: 'utf8',
    });
    assert.equal(r.status, 0, r.stderr);
    const { cached, got } = JSON.parse(r.stdout) as { cached: string; got: string };
    assert.notEqual(got, cached);
    assert.equal(existsSync(got), false, `${got} is left behind`);
    assert.equal(existsSync(path.dirname(got)), false);
    assert.equal(existsSync(cached), true, 'the cache itself stays (it is the cache)');
  });

  it('outside a single executable there is no embedded chart', async () => {
    assert.equal(await embeddedChartPath(), undefined);
  });
});
