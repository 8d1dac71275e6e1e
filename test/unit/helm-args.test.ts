import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { shortcutSets, splitImage, templateArgs, upgradeArgs, valuesArgs } from '../../src/helm/args.js';

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

describe('shortcutSets', () => {
  it('maps each shortcut to its documented value', () => {
    assert.deepEqual(
      shortcutSets({
        replicas: 3,
        image: 'room:v2',
        port: 7777,
        nodePortBase: 31000,
        exposeType: 'LoadBalancer',
        redis: false,
      }),
      [
        'room.replicas=3',
        'room.image.repository=room',
        'room.image.tag=v2',
        'room.containerPort=7777',
        'expose.port=7777',
        'expose.nodePortBase=31000',
        'expose.type=LoadBalancer',
        'redis.enabled=false',
      ],
    );
  });
  it('emits nothing for flags not given, and replicas 0 is a value', () => {
    assert.deepEqual(shortcutSets({}), []);
    assert.deepEqual(shortcutSets({ replicas: 0 }), ['room.replicas=0']);
  });
});

describe('valuesArgs', () => {
  it('puts -f first and the shortcuts before the user --set, so an explicit --set wins', () => {
    assert.deepEqual(
      valuesArgs(
        {
          valuesFiles: ['a.yaml', 'b.yaml'],
          set: ['room.replicas=5'],
          setString: ['room.image.tag=01'],
          setFile: ['redis.config.extra=x.conf'],
        },
        { replicas: 3 },
      ),
      [
        '--values',
        'a.yaml',
        '--values',
        'b.yaml',
        '--set',
        'room.replicas=3',
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
