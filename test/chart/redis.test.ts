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

describe('an existingSecret password that ends in a newline, on every address family', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'expose-pods-redis-nl-'));
  // What `kubectl create secret generic --from-file=redis-password=pw.txt` gives for a file ending in a newline.
  const secretValue = 'hunter2-from-a-file\n';
  let port = 0;
  let probe = '';
  let server: ChildProcess | undefined;
  let log = '';
  const ping = (host: string, auth: string) =>
    run('redis-cli', ['-h', host, '-p', String(port), 'ping'], { env: { REDISCLI_AUTH: auth } });

  before(async () => {
    const objs = render(helm.path, [
      ...['--set', 'redis.auth.existingSecret=mine', '--set', `redis.dataDir=${dir}`],
    ]);
    const cm = find(objs, 'ConfigMap', 'r-expose-pods-redis').data!;
    writeFileSync(path.join(dir, 'redis.conf'), cm['redis.conf']!);
    writeFileSync(path.join(dir, 'start.sh'), cm['start.sh']!);
    const c = find(objs, 'Deployment', 'r-expose-pods-redis').spec.template.spec.containers[0];
    port = await freePort();
    // The rendered readiness probe, pointed at this server's port.
    probe = (c.readinessProbe.exec.command as string[])[2]!.replace('-p 6379', `-p ${port}`);
    // The rendered bind, untouched: only the port moves.
    server = spawn('sh', [path.join(dir, 'start.sh'), '--port', String(port)], {
      env: { ...process.env, REDIS_PASSWORD: secretValue },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    server.stdout!.on('data', (b: Buffer) => (log += b.toString()));
    server.stderr!.on('data', (b: Buffer) => (log += b.toString()));
    await until('redis-server to answer', () =>
      /PONG/.test(ping('127.0.0.1', secretValue.trimEnd()).stdout) ? true : undefined,
    );
  });

  after(async () => {
    const s = server;
    if (s && s.exitCode === null) {
      const exited = new Promise((r) => s.once('exit', r));
      s.kill('SIGTERM');
      await exited;
    }
    if (process.exitCode && log) console.error(`redis-server log:\n${log}`);
    rmSync(dir, { recursive: true, force: true });
  });

  it('the readiness probe passes with the Secret value as the pod gets it, newline included', () => {
    const r = run('sh', ['-c', probe], { env: { REDISCLI_AUTH: secretValue } });
    assert.equal(r.status, 0, `${probe}\n${r.stdout}${r.stderr}`);
    // The probe as it was (the raw value) would fail: the newline is not part of the password.
    assert.match(
      ping('127.0.0.1', secretValue).stdout + ping('127.0.0.1', secretValue).stderr,
      /WRONGPASS|NOAUTH/,
    );
  });

  it('answers on IPv6 as well as IPv4 (bind * -::*), for IPv6-only clusters', () => {
    for (const host of ['127.0.0.1', '::1'])
      assert.match(ping(host, secretValue.trimEnd()).stdout, /PONG/, `redis on ${host}`);
  });
});
