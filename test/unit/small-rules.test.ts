import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { coalesceValues, releaseValuesOf } from '../../src/core/chart-values.js';
import { parseQuantity } from '../../src/core/quantity.js';
import {
  isSecretPath,
  REDACTED,
  redactSecrets,
  redactValueChanges,
  writeOnlyPaths,
} from '../../src/core/redact.js';
import {
  DEFAULT_RELEASE,
  helmDriverProblem,
  releaseNameProblem,
  requireSecretDriver,
} from '../../src/core/release.js';
import { ExitCode, UsageError } from '../../src/errors.js';

/** The small rules of src/core, both sides of each (found unguarded by mutation testing). */
describe('release names, as Helm allows them', () => {
  it('the default is expose-pods', () => assert.equal(DEFAULT_RELEASE, 'expose-pods'));
  const ok = ['a', 'rooms', 'rooms-2', 'a.b', 'a-b.c-d', '0', 'x'.repeat(53)];
  for (const name of ok)
    it(`"${name.slice(0, 12)}" (${name.length}) is fine`, () =>
      assert.equal(releaseNameProblem(name), undefined));
  const bad = ['Rooms', '-rooms', 'rooms-', 'a..b', 'a.-b', 'a_b', '', '.a', 'a.'];
  for (const name of bad)
    it(`"${name}" is refused`, () =>
      assert.match(releaseNameProblem(name) ?? '', /is invalid: use lower-case letters/));
  it('54 characters is one too many, and says so', () => {
    assert.equal(
      releaseNameProblem('x'.repeat(54)),
      `release name "${'x'.repeat(54)}" is 54 characters; Helm allows at most 53`,
    );
  });
});

describe('releaseNameProblem', () => {
  it('accepts Helm release names', () => {
    for (const n of ['expose-pods', 'rooms', 'a', 'game.rooms-1'])
      assert.equal(releaseNameProblem(n), undefined);
  });
  it('explains what is wrong with the others', () => {
    assert.match(releaseNameProblem('Rooms')!, /lower-case letters/);
    assert.match(releaseNameProblem('-rooms')!, /starting and ending/);
    assert.match(releaseNameProblem('room_1')!, /invalid/);
    assert.match(releaseNameProblem('a'.repeat(54))!, /at most 53/);
  });
});

describe('HELM_DRIVER: Secrets only', () => {
  it('unset, empty, secret and secrets are fine; anything else is exit 2 with the reason and what to do', () => {
    for (const v of [undefined, '', 'secret', 'secrets']) {
      assert.equal(helmDriverProblem({ HELM_DRIVER: v }), undefined, String(v));
      assert.doesNotThrow(() => requireSecretDriver({ HELM_DRIVER: v }));
    }
    for (const v of ['configmap', 'memory', 'sql', 'Secret']) {
      assert.match(
        helmDriverProblem({ HELM_DRIVER: v }) ?? '',
        new RegExp(`^HELM_DRIVER=${v} is not supported: .*in Secrets \\(HELM_DRIVER=secret\\)$`),
      );
      assert.throws(
        () => requireSecretDriver({ HELM_DRIVER: v }),
        (e: unknown) =>
          e instanceof UsageError &&
          e.exitCode === ExitCode.USAGE &&
          e.message.startsWith(`HELM_DRIVER=${v} is not supported`) &&
          /^Unset HELM_DRIVER for this command/.test(e.hint ?? ''),
      );
    }
  });
});

describe("parseQuantity: a node's allocatable pods as the API server writes them", () => {
  const table: [string, number | undefined][] = [
    ['110', 110],
    [' 110 ', 110],
    ['1k', 1000],
    ['1.5k', 1500],
    ['2M', 2e6],
    ['2e3', 2000],
    ['2E3', 2000],
    ['1Ki', 1024],
    ['2Mi', 2 * 2 ** 20],
    ['500m', 0.5],
    ['3G', 3e9],
    ['2T', 2e12],
    ['2P', 2e15],
    ['2E', 2e18],
    ['1Gi', 2 ** 30],
    ['1Ti', 2 ** 40],
    ['1Pi', 2 ** 50],
    ['1Ei', 2 ** 60],
    ['5u', 5e-6],
    ['5n', 5e-9],
    ['1e+3', 1000],
    ['15e-1', 1.5],
    ['1e', undefined],
    ['12.5', 12.5],
    ['.25', 0.25],
    ['1e12', 1e12],
    ['1ki', undefined],
    ['+5', 5],
    ['-5', -5],
    ['.5', 0.5],
    ['5.', 5],
    ['12', 12],
    ['x110', undefined],
    ['110x', undefined],
    ['1K', undefined],
    ['k', undefined],
    ['', undefined],
    ['1 k', undefined],
    ['1.2.3', undefined],
    ['--5', undefined],
    ['*5', undefined],
  ];
  for (const [q, want] of table) it(JSON.stringify(q), () => assert.equal(parseQuantity(q), want));
});

describe('redaction', () => {
  it('a manifest without a Secret comes back byte for byte, comments included', () => {
    const text =
      '# Source: x\napiVersion: v1\nkind: ConfigMap\ndata:\n  password: "shown"   # a ConfigMap is not secret\n';
    assert.equal(redactSecrets(text), text);
  });
  it("every Secret's data and stringData values, and nothing else", () => {
    const text = [
      'apiVersion: v1\nkind: Secret\nmetadata:\n  name: s\ndata:\n  a: c2VjcmV0\nstringData:\n  b: plain\n',
      'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\ndata:\n  a: kept\n',
    ].join('---\n');
    const out = redactSecrets(text);
    assert.match(out, new RegExp(`a: ${REDACTED}\\nstringData:\\n  b: ${REDACTED}`));
    assert.match(out, /a: kept/);
    assert.doesNotMatch(out, /c2VjcmV0|plain/);
    assert.equal(out.split('---').length, 2, 'the documents stay apart');
  });
  it('the documents come back joined as helm wrote them: nothing between them but their separator', () => {
    const secret = 'apiVersion: v1\nkind: Secret\nmetadata:\n  name: s\ndata:\n';
    const text = `${secret}  a: c2VjcmV0\n---\nkind: ConfigMap\ndata:\n  a: kept\n`;
    assert.equal(redactSecrets(text), `${secret}  a: ${REDACTED}\n---\nkind: ConfigMap\ndata:\n  a: kept\n`);
  });
  it('which value names are secret, and which only name a Secret', () => {
    const secret = [
      'redis.auth.password',
      'a.passwd',
      'a.passphrase',
      'pass',
      'x.apiToken',
      'clientSecret',
      'aws.credentials',
      'api_key',
      'apikey',
      'tls.privateKey',
      'private-key',
      'DB_PASS',
      'redis-pass',
      // The exceptions are whole names: a secret word around them is secret again.
      'a.preexistingPassword',
      'secretNameToken',
      'secretKeyRefPassword',
      'myImagePullSecrets',
      'imagePullSecretsToken',
    ];
    const shown = [
      'redis.auth.existingSecret',
      'tls.secretName',
      'envFrom.secretRef',
      'valueFrom.secretKeyRef',
      'imagePullSecrets',
      'passenger',
      'a.bypass',
      'room.replicas',
      'passes.count',
    ];
    for (const p of secret) assert.equal(isSecretPath(p), true, p);
    for (const p of shown) assert.equal(isSecretPath(p), false, p);
    assert.equal(isSecretPath('room.seed', new Set(['room.seed'])), true, 'marked by the schema');
  });
  it('writeOnlyPaths: nested properties marked writeOnly true, and nothing for what is not a schema', () => {
    const schema = {
      properties: {
        redis: {
          properties: { auth: { properties: { password: { writeOnly: true }, user: { writeOnly: false } } } },
        },
        top: { writeOnly: true },
        odd: null,
      },
    };
    assert.deepEqual([...writeOnlyPaths(schema)].sort(), ['redis.auth.password', 'top']);
    assert.deepEqual([...writeOnlyPaths(null)], []);
    assert.deepEqual([...writeOnlyPaths({ properties: 'x' })], []);
  });
  it('a secret change stays listed, its values redacted, but unset, null and empty shown as they are', () => {
    assert.deepEqual(
      redactValueChanges([
        { path: 'redis.auth.password', from: 'old', to: 'new' },
        { path: 'redis.auth.password', to: 'first' },
        { path: 'redis.auth.password', from: '', to: null },
        { path: 'room.replicas', from: 1, to: 2 },
      ]),
      [
        { path: 'redis.auth.password', from: REDACTED, to: REDACTED },
        { path: 'redis.auth.password', to: REDACTED },
        { path: 'redis.auth.password', from: '', to: null },
        { path: 'room.replicas', from: 1, to: 2 },
      ],
    );
    assert.deepEqual(redactValueChanges([{ path: 'a', from: undefined, to: 0 }], new Set(['a'])), [
      { path: 'a', from: undefined, to: REDACTED },
    ]);
  });
});

describe('secrets inside values printed whole (redactNested)', () => {
  const table: [string, unknown, unknown][] = [
    [
      'env entries: the value of one whose name looks secret',
      [
        { name: 'DB_PASSWORD', value: 'hunter2' },
        { name: 'REDIS_PASS', value: 'p' },
        { name: 'GITHUB_TOKEN', value: 't' },
        { name: 'HOST', value: 'db' },
      ],
      [
        { name: 'DB_PASSWORD', value: REDACTED },
        { name: 'REDIS_PASS', value: REDACTED },
        { name: 'GITHUB_TOKEN', value: REDACTED },
        { name: 'HOST', value: 'db' },
      ],
    ],
    [
      'an env entry from a Secret names it: shown',
      [{ name: 'DB_PASSWORD', valueFrom: { secretKeyRef: { name: 'db', key: 'password' } } }],
      [{ name: 'DB_PASSWORD', valueFrom: { secretKeyRef: { name: 'db', key: 'password' } } }],
    ],
    [
      'an empty secret value reveals nothing',
      [{ name: 'API_KEY', value: '' }],
      [{ name: 'API_KEY', value: '' }],
    ],
    [
      '--flag=value args',
      ['--password=hunter2', '--secret=s', '--api-key=k', '--client-secret=c', '--port=7777'],
      [
        `--password=${REDACTED}`,
        `--secret=${REDACTED}`,
        `--api-key=${REDACTED}`,
        `--client-secret=${REDACTED}`,
        '--port=7777',
      ],
    ],
    [
      '--flag value args: the next element, unless it is a flag itself',
      ['--token', 't', '--pass', 'p', '--use-token', '--verbose', '--name', 'x'],
      ['--token', REDACTED, '--pass', REDACTED, '--use-token', '--verbose', '--name', 'x'],
    ],
    [
      'a command line in one string, quoted values and assignments too',
      ['sh', '-c', `PGPASSWORD=pw psql --password "a b" --host db --token=t`],
      ['sh', '-c', `PGPASSWORD=${REDACTED} psql --password ${REDACTED} --host db --token=${REDACTED}`],
    ],
    [
      'keys inside objects in arrays',
      [{ user: 'u', password: 'p', nested: { apiKey: 'k' } }],
      [{ user: 'u', password: REDACTED, nested: { apiKey: REDACTED } }],
    ],
    [
      'a value after a secret flag with a dash inside it is a value; a flag after it is not',
      ['--token', 'abc-def', '--password', '-v', '--secret', '--verbose'],
      ['--token', REDACTED, '--password', '-v', '--secret', '--verbose'],
    ],
    [
      'only a flag announces a value: a secret word alone, or a list that holds a flag, does not',
      ['show', 'token', 'list', ['--token'], 'x'],
      ['show', 'token', 'list', ['--token'], 'x'],
    ],
    [
      'null inside a value, and an env entry whose name is not a string: as they are',
      [null, { name: ['TOKEN'], value: 'v' }, { a: null }],
      [null, { name: ['TOKEN'], value: 'v' }, { a: null }],
    ],
    [
      'nothing secret: as it is',
      ['--port', '7777', 'bypass=1', 'passes=2'],
      ['--port', '7777', 'bypass=1', 'passes=2'],
    ],
  ];
  for (const [name, value, want] of table)
    it(name, () => {
      assert.deepEqual(redactValueChanges([{ path: 'room.x', from: undefined, to: value }]), [
        { path: 'room.x', from: undefined, to: want },
      ]);
    });
});

describe('secret flags inside one command-line string', () => {
  const table: [string, string, string][] = [
    ['an assignment after a space', 'env TOKEN=abc run', `env TOKEN=${REDACTED} run`],
    ["Go's single-dash long flag", 'server -token abc -port 7777', `server -token ${REDACTED} -port 7777`],
    ['more than one space before the value', '--password  x', `--password  ${REDACTED}`],
    ['a single-quoted value with a space', "--password 'a b' --host db", `--password ${REDACTED} --host db`],
    ['a dash inside the value', '--password my-secret', `--password ${REDACTED}`],
    ['a value that starts with a dash, after =', '--password=-abc', `--password=${REDACTED}`],
    ['a flag after a secret flag is the next flag, not its value', '--token --verbose', '--token --verbose'],
    ['a dashed assignment whose last word is pass', 'db-pass=x', `db-pass=${REDACTED}`],
    ['a flag that names a Secret is shown', '--existingSecret=db', '--existingSecret=db'],
  ];
  for (const [name, value, want] of table)
    it(name, () => {
      assert.deepEqual(redactValueChanges([{ path: 'room.command', from: value, to: undefined }]), [
        { path: 'room.command', from: want, to: undefined },
      ]);
    });
});

describe('chart values', () => {
  it('releaseValuesOf: defaults when a value is missing; expose.count follows the replicas unless set', () => {
    assert.deepEqual(releaseValuesOf({}), {
      replicas: 0,
      exposeCount: 0,
      nodePortBase: undefined,
      redisEnabled: false,
    });
    assert.deepEqual(
      releaseValuesOf({
        room: { replicas: 3 },
        expose: { count: null, nodePortBase: null, nodePorts: [] },
        redis: { enabled: true },
      }),
      { replicas: 3, exposeCount: 3, nodePortBase: undefined, redisEnabled: true },
    );
    assert.deepEqual(
      releaseValuesOf({
        room: { replicas: 3 },
        expose: { count: 0, nodePortBase: 30000, nodePorts: [31000] },
        redis: { enabled: false },
      }),
      { replicas: 3, exposeCount: 0, nodePortBase: 30000, nodePorts: [31000], redisEnabled: false },
    );
    assert.deepEqual(
      releaseValuesOf({ room: { replicas: 2 }, expose: { count: 1 } }),
      { replicas: 2, exposeCount: 1, nodePortBase: undefined, redisEnabled: false },
      'expose without nodePorts: no fixed nodePorts',
    );
  });
  it('coalesceValues: maps merge key by key, null removes a default, a list or a scalar replaces a map', () => {
    assert.deepEqual(
      coalesceValues(
        {
          room: { replicas: 1, image: { tag: '1' } },
          expose: { nodePorts: [1] },
          keep: 'x',
          gone: 'y',
          list: { a: 1 },
        },
        { room: { image: { tag: '2' } }, expose: { nodePorts: [2] }, gone: null, list: [1], scalar: 5 },
      ),
      {
        room: { replicas: 1, image: { tag: '2' } },
        expose: { nodePorts: [2] },
        keep: 'x',
        list: [1],
        scalar: 5,
      },
    );
    assert.deepEqual(coalesceValues({ a: 'x' }, { a: { b: 1 } }), { a: { b: 1 } }, 'a map over a scalar');
    assert.deepEqual(coalesceValues({ a: [1] }, { a: { b: 1 } }), { a: { b: 1 } }, 'a map over a list');
    assert.deepEqual(coalesceValues(null, { a: 1 }), { a: 1 });
    assert.deepEqual(coalesceValues({ a: 1 }, [1]), { a: 1 });
  });
});
