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
