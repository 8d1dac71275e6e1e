import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { complete, connectionOf, formatCompletion, type CommandSpec } from '../../src/core/completion.js';

const COMMANDS: CommandSpec[] = [
  {
    id: 'scale',
    summary: 'Change the number of rooms. More text.',
    releaseArg: true,
    flags: [
      { name: 'namespace', char: 'n', takesValue: true, description: 'Namespace of the release.' },
      { name: 'replicas', char: 'r', takesValue: true },
      { name: 'yes', char: 'y', takesValue: false },
      { name: 'output', char: 'o', takesValue: true, options: ['text', 'json', 'yaml'] },
      { name: 'values', char: 'f', takesValue: true, multiple: true },
    ],
  },
  { id: 'version', releaseArg: false, flags: [] },
];

const values = (words: string[]) => {
  const c = complete(COMMANDS, words);
  return c.kind === 'words' ? c.candidates.map((x) => x.value) : c;
};

describe('complete: what the word being completed can become', () => {
  const cases: [string, string[], unknown][] = [
    ['a subcommand', [''], ['scale', 'version']],
    ['a subcommand by prefix', ['v'], ['version']],
    ['flags, by prefix', ['scale', '--r'], ['--replicas']],
    ['a flag already given is not offered again', ['scale', '--yes', '--y'], []],
    ['a repeatable flag is', ['scale', '-f', 'a.yaml', '--v'], ['--values']],
    ['option values after the flag', ['scale', '-o', 'j'], ['json']],
    [
      'option values after --flag=',
      ['scale', '--output='],
      ['--output=text', '--output=json', '--output=yaml'],
    ],
    ['a value with nothing to offer', ['scale', '--replicas', ''], []],
    ['the release, first positional', ['scale', ''], { kind: 'releases', prefix: '' }],
    [
      'the release after flags with values',
      ['scale', '-n', 'game', '-r', '3', 'ro'],
      { kind: 'releases', prefix: 'ro' },
    ],
    ['no second positional', ['scale', 'rooms', ''], []],
    ['namespaces after -n', ['scale', '-n', 'ga'], { kind: 'namespaces', prefix: 'ga' }],
    ['a command without a release argument', ['version', ''], []],
    ['an unknown command', ['nope', ''], []],
  ];
  for (const [name, words, want] of cases) {
    it(name, () => {
      assert.deepEqual(values(words), want);
    });
  }

  it('descriptions are the first sentence; subcommands and flags never complete file names', () => {
    assert.deepEqual(complete(COMMANDS, ['']), {
      kind: 'words',
      candidates: [
        { value: 'scale', description: 'Change the number of rooms' },
        { value: 'version', description: undefined },
      ],
      directive: 4,
    });
  });
});

describe('connectionOf: the connection flags typed so far', () => {
  it('reads -n, --namespace=, --context and --kubeconfig, not the word being completed', () => {
    assert.deepEqual(connectionOf(['scale', '-n', 'game', '--context=prod', '--kubeconfig', '/k', '']), {
      namespace: 'game',
      context: 'prod',
      kubeconfig: '/k',
    });
    assert.deepEqual(connectionOf(['scale', '-n', 'ga']), {});
  });
});

describe('formatCompletion', () => {
  it('one candidate a line, a tab before its description, then :<directive>', () => {
    assert.equal(
      formatCompletion([{ value: 'a', description: 'the a' }, { value: 'b' }], 4),
      'a\tthe a\nb\n:4\n',
    );
    assert.equal(formatCompletion([], 0), ':0\n');
  });
});

describe('complete: the rest of the rules, both sides (mutation testing)', () => {
  const MORE: CommandSpec[] = [
    {
      id: 'endpoints',
      summary: 'Where each room is. It has more.',
      releaseArg: true,
      flags: [
        { name: 'namespace', char: 'n', takesValue: true },
        { name: 'context', takesValue: true },
        { name: 'kubeconfig', takesValue: true },
        { name: 'values', char: 'f', takesValue: true, multiple: true },
        { name: 'set-file', takesValue: true },
        { name: 'helm-binary', takesValue: true },
        { name: 'pki-dir', takesValue: true },
        { name: 'address-type', takesValue: true },
        { name: 'watch', char: 'w', takesValue: false, description: 'Keep watching.' },
        { name: 'yes', takesValue: false },
      ],
    },
  ];
  const run = (words: string[]) => complete(MORE, words);

  it('a leading dash offers --help; a dash at the end of a word does not', () => {
    assert.deepEqual(run(['-']), {
      kind: 'words',
      candidates: [{ value: '--help', description: 'Show help' }],
      directive: 4,
    });
    assert.deepEqual(run(['end-']), { kind: 'words', candidates: [], directive: 4 });
  });

  it('contexts after --context; files and directories for the flags that take them', () => {
    assert.deepEqual(run(['endpoints', '--context', 'pr']), { kind: 'contexts', prefix: 'pr' });
    assert.deepEqual(run(['endpoints', '--context=pr']), { kind: 'contexts', prefix: 'pr' });
    for (const f of ['kubeconfig', 'values', 'set-file', 'helm-binary'])
      assert.deepEqual(run(['endpoints', `--${f}`, '']), { kind: 'words', candidates: [], directive: 0 }, f);
    assert.deepEqual(run(['endpoints', '--pki-dir', '']), { kind: 'words', candidates: [], directive: 16 });
  });

  it('--address-type: the types not chosen yet, after the ones already written, with no space after', () => {
    const c = run(['endpoints', '--address-type', 'InternalIP,Ex']);
    assert.deepEqual(c, {
      kind: 'words',
      candidates: [{ value: 'InternalIP,ExternalDNS' }, { value: 'InternalIP,ExternalIP' }],
      directive: 4 | 2,
    });
    const eq = run(['endpoints', '--address-type=Hostname,']);
    assert.ok(eq.kind === 'words');
    const values = eq.candidates.map((x) => x.value);
    assert.ok(
      values.length > 0 && values.every((v) => v.startsWith('--address-type=Hostname,')),
      values.join(),
    );
    assert.ok(!values.includes('--address-type=Hostname,Hostname'));
  });

  it('--flag= for a flag without a value, or an unknown one, offers nothing', () => {
    assert.deepEqual(run(['endpoints', '--watch=']), { kind: 'words', candidates: [], directive: 4 });
    assert.deepEqual(run(['endpoints', '--nope=x']), { kind: 'words', candidates: [], directive: 4 });
  });

  it('the word after a boolean flag is the release; after --flag=value too; a short flag by its letter', () => {
    assert.deepEqual(run(['endpoints', '--watch', 'r']), { kind: 'releases', prefix: 'r' });
    assert.deepEqual(run(['endpoints', '-w', 'r']), { kind: 'releases', prefix: 'r' });
    assert.deepEqual(run(['endpoints', '--namespace=game', 'r']), { kind: 'releases', prefix: 'r' });
    assert.deepEqual(run(['endpoints', '-n', 'game', '-w', 'r']), { kind: 'releases', prefix: 'r' });
    assert.deepEqual(run(['endpoints', 'rooms', '-w', '']), { kind: 'words', candidates: [], directive: 4 });
    assert.deepEqual(
      run(['endpoints', '-x', 'r']),
      { kind: 'releases', prefix: 'r' },
      'an unknown short flag is not a positional',
    );
    assert.deepEqual(
      run(['endpoints', '-nw', 'r']),
      { kind: 'releases', prefix: 'r' },
      'nor is a cluster of letters',
    );
  });

  it('a flag given as -w, or --namespace=, is not offered again; the subcommand itself is not a flag', () => {
    const offered = (words: string[]) => {
      const c = run(words);
      return c.kind === 'words' ? c.candidates.map((x) => x.value) : [];
    };
    assert.ok(!offered(['endpoints', '-w', '--']).includes('--watch'));
    assert.ok(!offered(['endpoints', '--namespace=game', '--']).includes('--namespace'));
    assert.ok(offered(['endpoints', '--']).includes('--watch'));
    assert.deepEqual(run(['endpoints', '--w']), {
      kind: 'words',
      candidates: [{ value: '--watch', description: 'Keep watching' }],
      directive: 4,
    });
  });

  it('descriptions: the first sentence, its period dropped; a description of one sentence whole', () => {
    const c = complete(
      [
        { id: 'x', summary: 'One. Two.', releaseArg: false, flags: [] },
        { id: 'y', summary: 'Only one', releaseArg: false, flags: [] },
      ],
      [''],
    );
    assert.deepEqual(c.kind === 'words' ? c.candidates : [], [
      { value: 'x', description: 'One' },
      { value: 'y', description: 'Only one' },
    ]);
  });
});

describe('connectionOf: both sides', () => {
  it('--namespace, and -n=; a flag with its value in the word being completed is not read', () => {
    assert.deepEqual(connectionOf(['scale', '--namespace', 'game', '']), { namespace: 'game' });
    assert.deepEqual(connectionOf(['scale', '-n=game', '']), { namespace: 'game' });
    assert.deepEqual(connectionOf(['scale', '--namespace=game']), {}, 'the word being completed');
    assert.deepEqual(connectionOf(['scale', '--context', '']), {}, 'its value is being completed');
    assert.deepEqual(connectionOf(['=x', '--other', 'y', '']), {});
  });
});

describe('complete: the words a user types that look like something else', () => {
  it('no word at all is a new one: every subcommand', () => {
    assert.deepEqual(values([]), ['scale', 'version']);
  });

  it('--h before a subcommand completes to --help', () => {
    assert.deepEqual(values(['--h']), ['--help']);
  });

  it('a release named like rooms-2 is the positional, not a short flag: nothing after it', () => {
    assert.deepEqual(values(['scale', 'rooms-2', '']), []);
    assert.deepEqual(values(['scale', 'rooms-2', '-y', '']), []);
  });

  it('after a boolean flag, or --flag=value, and then the release: no second release', () => {
    assert.deepEqual(values(['scale', '-y', 'rooms', '']), []);
    assert.deepEqual(values(['scale', '--yes', 'rooms', '']), []);
    assert.deepEqual(values(['scale', '--namespace=game', 'rooms', '']), []);
  });

  it('a period inside the first sentence does not end it', () => {
    const rollout: CommandSpec = {
      id: 'rollout',
      summary: 'Restart the rooms (pods.v1) once free.',
      releaseArg: true,
      flags: [
        {
          name: 'restart',
          takesValue: false,
          description: 'Give every room a new revision with nothing else changed (room.restartedAt).',
        },
      ],
    };
    assert.deepEqual(complete([rollout], ['rol']), {
      kind: 'words',
      candidates: [{ value: 'rollout', description: 'Restart the rooms (pods.v1) once free' }],
      directive: 4,
    });
    assert.deepEqual(complete([rollout], ['rollout', '--r']), {
      kind: 'words',
      candidates: [
        {
          value: '--restart',
          description: 'Give every room a new revision with nothing else changed (room.restartedAt)',
        },
      ],
      directive: 4,
    });
  });
});
