import assert from 'node:assert/strict';
import { readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';

import { ESLint } from 'eslint';

import { ROOT } from '../support/tools.js';

/**
 * The layers are a lint rule (eslint.config.js), not a convention: each wrong-way
 * import below, written into the floor it must not appear in, fails `npm run lint`.
 */
/** An API list call, and an API read call, as a client-node client is called. */
const LIST_CALL =
  'export function f(core: { listNamespacedPod: (q: { namespace: string }) => Promise<unknown> }) {\n  return core.listNamespacedPod({ namespace: "game" });\n}\n';
const READ_CALL =
  'export function f(apps: { readNamespacedStatefulSet: (q: { name: string }) => Promise<unknown> }) {\n  return apps.readNamespacedStatefulSet({ name: "rooms" });\n}\n';

describe('the layer rule: each floor imports only downwards', () => {
  const cases: { floor: string; code: string; rule: RegExp }[] = [
    {
      floor: 'core',
      code: "import { loadKube } from '../kube/config.js';\nexport const x = loadKube;\n",
      rule: /core is pure/,
    },
    {
      floor: 'core',
      code: "import { readFileSync } from 'node:fs';\nexport const x = readFileSync;\n",
      rule: /core does no I\/O/,
    },
    {
      floor: 'core',
      code: "import { connect } from 'node:net';\nexport const x = connect;\n",
      rule: /core does no I\/O/,
    },
    {
      floor: 'output',
      code: "import { readReleaseObjects } from '../kube/reader.js';\nexport const x = readReleaseObjects;\n",
      rule: /output formats what ops returns/,
    },
    {
      floor: 'commands',
      code: "export async function f() {\n  const { loadKube } = await import('../kube/config.js');\n  return loadKube;\n}\n",
      rule: /commands call ops/,
    },
    {
      floor: 'kube',
      code: "import { releaseStatus } from '../ops/status.js';\nexport const x = releaseStatus;\n",
      rule: /never import upwards/,
    },
    {
      floor: 'commands',
      code: "import { CoreV1Api } from '@kubernetes/client-node';\nexport const x = CoreV1Api;\n",
      rule: /only kube\/ imports @kubernetes\/client-node/,
    },
    {
      floor: 'ops',
      code: "import type { V1Pod } from '@kubernetes/client-node';\nexport type X = V1Pod;\n",
      rule: /only kube\/ imports @kubernetes\/client-node/,
    },
    {
      floor: 'ops',
      code: "export async function f() {\n  const k8s = await import('@kubernetes/client-node');\n  return k8s;\n}\n",
      rule: /only kube\/ imports @kubernetes\/client-node/,
    },
    {
      floor: 'helm',
      code: "import { CoreV1Api } from '@kubernetes/client-node';\nexport const x = CoreV1Api;\n",
      rule: /only kube\/ imports @kubernetes\/client-node/,
    },
    {
      floor: 'commands',
      code: "import { spawn } from 'node:child_process';\nexport const x = spawn;\n",
      rule: /only helm\/ starts processes/,
    },
    {
      floor: 'ops',
      code: "import { execFile } from 'child_process';\nexport const x = execFile;\n",
      rule: /only helm\/ starts processes/,
    },
    {
      floor: 'kube',
      code: "export async function f() {\n  const cp = await import('node:child_process');\n  return cp;\n}\n",
      rule: /only helm\/ starts processes/,
    },
    {
      floor: 'output',
      code: "import { spawnSync } from 'node:child_process';\nexport const x = spawnSync;\n",
      rule: /only helm\/ starts processes/,
    },
    {
      floor: 'ops',
      code: "import { formatStatus } from '../output/status.js';\nexport const x = formatStatus;\n",
      rule: /ops returns results/,
    },
    {
      floor: '.',
      code: "import { spawn } from 'node:child_process';\nexport const x = spawn;\n",
      rule: /only helm\/ starts processes/,
    },
    ...['ops', 'kube', 'commands', 'helm'].map((floor) => ({
      floor,
      code: LIST_CALL,
      rule: /read the cluster through kube\/reader\.ts/,
    })),
    { floor: 'ops', code: READ_CALL, rule: /read the cluster through kube\/reader\.ts/ },
  ];
  it('a wrong-way import fails lint, with the reason; the same import where it belongs passes', async () => {
    const eslint = new ESLint({ cwd: ROOT });
    /** The messages lint gives `code` written as a file of `floor`. */
    const lintAt = async (floor: string, code: string): Promise<string[] | undefined> => {
      const file = path.join(ROOT, 'src', floor, `zz-layer-check-${process.pid}.ts`);
      writeFileSync(file, code);
      try {
        const [result] = await eslint.lintFiles([file]);
        return result?.messages.map((m) => m.message);
      } finally {
        rmSync(file, { force: true });
      }
    };
    for (const c of cases)
      assert.match(((await lintAt(c.floor, c.code)) ?? []).join('\n'), c.rule, `${c.floor}: ${c.code}`);
    const allowed = [
      { floor: 'ops', code: "import { loadKube } from '../kube/config.js';\nexport const x = loadKube;\n" },
      {
        floor: 'kube',
        code: "import { CoreV1Api } from '@kubernetes/client-node';\nexport const x = CoreV1Api;\n",
      },
      { floor: 'helm', code: "import { spawn } from 'node:child_process';\nexport const x = spawn;\n" },
    ];
    for (const c of allowed) assert.deepEqual(await lintAt(c.floor, c.code), [], `${c.floor} may: ${c.code}`);
  });

  it("only the readers call the API's list* and read*: the same call linted as kube/reader.ts is clean", async () => {
    const eslint = new ESLint({ cwd: ROOT });
    // The call alone, under the reader's path: the path chooses the rules, and the reader's
    // own text stays out of it, since a copy may change it (Stryker's sandbox prepends
    // `// @ts-nocheck`, which ban-ts-comment reports) without changing which rules apply.
    for (const reader of ['src/kube/reader.ts', 'src/kube/writes.ts']) {
      const [result] = await eslint.lintText(LIST_CALL, { filePath: path.join(ROOT, reader) });
      assert.deepEqual(
        result?.messages.map((m) => m.message),
        [],
        reader,
      );
    }
    // The same call under a path that is not a reader's is reported: the rule is on.
    const [elsewhere] = await eslint.lintText(LIST_CALL, { filePath: path.join(ROOT, 'src/kube/views.ts') });
    assert.match(
      (elsewhere?.messages ?? []).map((m) => m.message).join('\n'),
      /read the cluster through kube\/reader\.ts/,
    );
    // And fs's readFile is not an API read.
    const [fsRead] = await eslint.lintText(
      "import { promises } from 'node:fs';\nexport const f = () => promises.readFile('x', 'utf8');\n",
      { filePath: path.join(ROOT, 'src/ops/status.ts') },
    );
    assert.ok(!fsRead?.messages.some((m) => /kube\/reader/.test(m.message)));
  });
});

describe('commands stay thin', () => {
  it("no command's run() is over 40 lines: it parses, calls one ops function, and prints", async () => {
    const ts = (await import('typescript')).default;
    const dir = path.join(ROOT, 'src/commands');
    const long: string[] = [];
    let seen = 0;
    for (const file of readdirSync(dir).filter((f) => f.endsWith('.ts'))) {
      const text = readFileSync(path.join(dir, file), 'utf8');
      const sf = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true);
      const visit = (node: import('typescript').Node): void => {
        if (ts.isMethodDeclaration(node) && node.name.getText(sf) === 'run' && node.body) {
          seen++;
          const lines =
            sf.getLineAndCharacterOfPosition(node.body.getEnd()).line -
            sf.getLineAndCharacterOfPosition(node.body.getStart(sf)).line -
            1;
          if (lines > 40) long.push(`${file}: ${lines} lines`);
        }
        ts.forEachChild(node, visit);
      };
      visit(sf);
    }
    assert.ok(seen >= 14, `found ${seen} run() methods`);
    assert.deepEqual(long, []);
  });
});
