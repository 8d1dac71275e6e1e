import assert from 'node:assert/strict';
import { upgradedRevision } from '../../src/helm/release.js';
import { describe, it } from 'node:test';

import {
  escapeSetValue,
  shortcutArgs,
  splitImage,
  templateArgs,
  upgradeArgs,
  valuesArgs,
} from '../../src/helm/args.js';

const noValues = { valuesFiles: [], set: [], setString: [], setFile: [] };
const target = { namespace: 'game' };

describe('splitImage', () => {
  const cases: [string, { repository: string; tag?: string }][] = [
    ['nginx', { repository: 'nginx' }],
    ['nginx:1.27', { repository: 'nginx', tag: '1.27' }],
    ['registry.local:5000/team/room', { repository: 'registry.local:5000/team/room' }],
    ['registry.local:5000/team/room:v2', { repository: 'registry.local:5000/team/room', tag: 'v2' }],
    ['ghcr.io/x/room@sha256:abc', { repository: 'ghcr.io/x/room@sha256:abc' }],
  ];
  for (const [input, want] of cases) it(input, () => assert.deepEqual(splitImage(input), want));
});

describe('shortcutArgs', () => {
  it('maps each shortcut to its documented value; strings through --set-string', () => {
    assert.deepEqual(
      shortcutArgs({
        replicas: 3,
        image: 'room:v2',
        port: 7777,
        nodePortBase: 31000,
        exposeType: 'LoadBalancer',
        redis: false,
      }),
      [
        ['--set', 'room.replicas=3'],
        ['--set-string', 'room.image.repository=room'],
        ['--set-string', 'room.image.tag=v2'],
        ['--set', 'room.containerPort=7777'],
        ['--set', 'expose.port=7777'],
        ['--set', 'expose.nodePortBase=31000'],
        ['--set-string', 'expose.type=LoadBalancer'],
        ['--set', 'redis.enabled=false'],
      ].flat(),
    );
  });
  it('emits nothing for flags not given, and replicas 0 is a value', () => {
    assert.deepEqual(shortcutArgs({}), []);
    assert.deepEqual(shortcutArgs({ replicas: 0 }), ['--set', 'room.replicas=0']);
  });
  it('escapes what helm --set would split: a comma cannot add a key, a backslash stays', () => {
    assert.deepEqual(shortcutArgs({ image: 'repo/app:1.2,redis.enabled=false' }), [
      '--set-string',
      'room.image.repository=repo/app',
      '--set-string',
      'room.image.tag=1.2\\,redis.enabled=false',
    ]);
    assert.equal(escapeSetValue('a\\b,c'), 'a\\\\b\\,c');
  });
});

describe('valuesArgs', () => {
  it("puts -f first, then the shortcuts the user did not set explicitly, then the user's own flags", () => {
    assert.deepEqual(
      valuesArgs(
        {
          valuesFiles: ['a.yaml', 'b.yaml'],
          set: ['room.replicas=5'],
          setString: ['room.image.tag=01'],
          setFile: ['redis.config.extra=x.conf'],
        },
        { replicas: 3, image: 'room:v2' },
      ),
      [
        '--values',
        'a.yaml',
        '--values',
        'b.yaml',
        // room.replicas=3 and room.image.tag=v2 are left out: the user set those keys.
        '--set-string',
        'room.image.repository=room',
        '--set',
        'room.replicas=5',
        '--set-string',
        'room.image.tag=01',
        '--set-file',
        'redis.config.extra=x.conf',
      ],
    );
  });
});

describe('templateArgs', () => {
  it('passes kube context and kubeconfig only when given', () => {
    assert.deepEqual(templateArgs('r', '/c', target, []), ['template', 'r', '/c', '--namespace', 'game']);
    assert.deepEqual(
      templateArgs('r', '/c', { namespace: 'n', kubeconfig: '/k', context: 'ctx' }, ['--set', 'a=1']),
      [
        'template',
        'r',
        '/c',
        '--namespace',
        'n',
        '--kubeconfig',
        '/k',
        '--kube-context',
        'ctx',
        '--set',
        'a=1',
      ],
    );
  });
});

describe('upgradeArgs', () => {
  const opts = { createNamespace: true, wait: true, timeout: '5m' };
  it('Helm 3 waits with a boolean --wait', () => {
    assert.deepEqual(upgradeArgs(3, 'r', '/c', target, noValues.set, opts), [
      'upgrade',
      '--install',
      'r',
      '/c',
      '--namespace',
      'game',
      '--create-namespace',
      '--wait',
      '--timeout',
      '5m',
    ]);
  });
  it('Helm 4 names the wait strategy', () => {
    assert.ok(upgradeArgs(4, 'r', '/c', target, [], opts).includes('--wait=watcher'));
    assert.ok(!upgradeArgs(4, 'r', '/c', target, [], opts).includes('--wait'));
  });
  it('--no-wait and no --create-namespace add neither flag', () => {
    const args = upgradeArgs(4, 'r', '/c', target, [], {
      createNamespace: false,
      wait: false,
      timeout: '90s',
    });
    assert.ok(!args.some((a) => a.startsWith('--wait') || a === '--create-namespace'));
    assert.deepEqual(args.slice(-2), ['--timeout', '90s']);
  });
});

describe('upgradedRevision', () => {
  it("the revision in helm's status after an upgrade, the first one only; undefined when it says none", () => {
    const out = [
      'Release "rooms" has been upgraded. Happy Helming!',
      'NAME: rooms',
      'LAST DEPLOYED: Sat Dec  5 07:30:00 2026',
      'NAMESPACE: game',
      'STATUS: deployed',
      'REVISION: 12',
      'DESCRIPTION: kubectl-expose-pods scale 2 -> 5',
      'NOTES:',
      'REVISION: 99 (a chart note that says so)',
      'REVISION: 99',
    ].join('\n');
    assert.equal(upgradedRevision(out), 12);
    assert.equal(upgradedRevision('Release "rooms" has been upgraded.\nSTATUS: deployed\n'), undefined);
    assert.equal(upgradedRevision('REVISION: twelve'), undefined);
  });
});
