import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';

import { find, render } from '../support/chart.js';
import { HELMS, run } from '../support/tools.js';

/** A port nobody listens on right now. */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

async function until<T>(what: string, fn: () => T | undefined, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = fn();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

const helm = HELMS.find((h) => h.major === 4)!;

describe('the rendered redis.conf and start.sh run a real redis-server', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'expose-pods-redis-'));
  const dataDir = path.join(dir, 'data');
  let password = '';
  let port = 0;
  let server: ChildProcess | undefined;
  let log = '';

  const cli = (args: string[], auth = false) =>
    run('redis-cli', ['-h', '127.0.0.1', '-p', String(port), ...args], {
      env: auth ? { REDISCLI_AUTH: password } : { REDISCLI_AUTH: '' },
    });

  async function start(): Promise<void> {
    server = spawn('sh', [path.join(dir, 'start.sh'), '--port', String(port), '--bind', '127.0.0.1'], {
      env: { ...process.env, REDIS_PASSWORD: password },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    server.stdout!.on('data', (b: Buffer) => (log += b.toString()));
    server.stderr!.on('data', (b: Buffer) => (log += b.toString()));
    await until('redis-server to answer', () => (/PONG/.test(cli(['ping'], true).stdout) ? true : undefined));
  }

  async function stop(): Promise<void> {
    const s = server;
    if (!s || s.exitCode !== null) return;
    const exited = new Promise((r) => s.once('exit', r));
    s.kill('SIGTERM'); // what the kubelet sends
    await exited;
  }

  before(async () => {
    // The chart's own config, with the data dir pointed at a temp dir through its value.
    const objs = render(helm.path, ['--set', `redis.dataDir=${dataDir}`]);
    const cm = find(objs, 'ConfigMap', 'r-expose-pods-redis').data!;
    writeFileSync(path.join(dir, 'redis.conf'), cm['redis.conf']!);
    writeFileSync(path.join(dir, 'start.sh'), cm['start.sh']!);
    password = Buffer.from(
      find(objs, 'Secret', 'r-expose-pods-redis').data!['redis-password']!,
      'base64',
    ).toString();
    run('mkdir', ['-p', dataDir]);
    port = await freePort();
    await start();
  });

  after(async () => {
    await stop();
    if (process.exitCode && log) console.error(`redis-server log:\n${log}`);
    rmSync(dir, { recursive: true, force: true });
  });

  it('refuses a client without the password', () => {
    const r = cli(['ping']);
    assert.match(r.stdout + r.stderr, /NOAUTH Authentication required/);
  });

  it('accepts AUTH with the password from the Secret, and rejects a wrong one', () => {
    assert.match(cli(['ping'], true).stdout, /^PONG/);
    const wrong = run('redis-cli', [
      '-h',
      '127.0.0.1',
      '-p',
      String(port),
      '--no-auth-warning',
      '-a',
      `${password}x`,
      'ping',
    ]);
    assert.match(wrong.stdout + wrong.stderr, /WRONGPASS|invalid username-password/);
  });

  it('runs with appendonly yes, and requirepass is the Secret value', () => {
    assert.deepEqual(cli(['config', 'get', 'appendonly'], true).stdout.trim().split('\n'), [
      'appendonly',
      'yes',
    ]);
    assert.deepEqual(cli(['config', 'get', 'requirepass'], true).stdout.trim().split('\n'), [
      'requirepass',
      password,
    ]);
    assert.deepEqual(cli(['config', 'get', 'dir'], true).stdout.trim().split('\n'), ['dir', dataDir]);
  });

  it('keeps the password out of the process arguments', () => {
    const cmdline = readFileSync(`/proc/${server!.pid}/cmdline`, 'utf8');
    assert.match(cmdline, /redis-server/);
    assert.ok(!cmdline.includes(password), 'the password is visible in ps');
  });

  it('keeps a key written before a restart', async () => {
    assert.match(cli(['set', 'room:7', 'player-42'], true).stdout, /OK/);
    await stop();
    assert.ok(existsSync(path.join(dataDir, 'appendonlydir')), 'no append-only file was written');
    await start();
    assert.equal(cli(['get', 'room:7'], true).stdout.trim(), 'player-42');
  });
});
