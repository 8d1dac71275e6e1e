import js from '@eslint/js';
import tseslint from 'typescript-eslint';

// Two imports that belong to one floor each, whatever the floor (README, Layout).
const CLIENT_NODE = {
  group: ['@kubernetes/client-node'],
  message: 'only kube/ imports @kubernetes/client-node; the other floors use its views (core/model.ts).',
};
const PROCESSES = {
  group: ['node:child_process', 'child_process'],
  message:
    'only helm/ starts processes (and kube/exec-credential.ts, the sign-in plugin kubectl would run too).',
};
// The same two for a lazy import(), which no-restricted-imports does not see.
const LAZY_CLIENT_NODE = {
  selector: 'ImportExpression[source.value="@kubernetes/client-node"]',
  message: CLIENT_NODE.message,
};
const LAZY_PROCESSES = {
  selector: 'ImportExpression[source.value=/^(node:)?child_process$/]',
  message: PROCESSES.message,
};

// The API's list and read calls (core.listNamespacedPod, apps.readNamespacedStatefulSet, ...)
// belong to the readers: one place that sends each once per command run (kube/reader.ts).
const API_READS = {
  selector:
    'CallExpression[callee.type="MemberExpression"][callee.property.name=/^(list|read)[A-Z]/]:not([callee.property.name=/^readFile/])',
  message:
    'read the cluster through kube/reader.ts (each read sent once per command run); only the readers call list*/read*.',
};
// The readers: the cluster's objects, certificates, Helm's release records, and the reads
// that are half of a conditional write (the lock's lease, a scale subresource, a node's taints).
const READERS = [
  'src/kube/reader.ts',
  'src/kube/cert-objects.ts',
  'src/kube/helm-releases.ts',
  'src/kube/lock.ts',
  'src/kube/writes.ts',
];

/** A floor below ops (kube, helm, net): never an upward import, and the patterns it is denied besides. */
function belowOps(files, patterns, lazy) {
  return {
    files,
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['../ops/**', '../commands/**', '../output/**'],
              message: 'kube, helm and net sit below ops: they never import upwards.',
            },
            ...patterns,
          ],
        },
      ],
      'no-restricted-syntax': lazy.length ? ['error', ...lazy] : 'off',
    },
  };
}

export default tseslint.config(
  { ignores: ['dist/', 'build/', 'node_modules/', 'coverage/'] },
  js.configs.recommended,
  ...tseslint.configs.strictTypeChecked,
  {
    languageOptions: {
      parserOptions: {
        projectService: {
          allowDefaultProject: ['*.js', 'bin/*.js', 'examples/*.mjs', 'scripts/package/*.cjs'],
        },
        tsconfigRootDir: import.meta.dirname,
      },
    },
    rules: {
      '@typescript-eslint/restrict-template-expressions': ['error', { allowNumber: true }],
      'no-console': 'error',
    },
  },
  {
    // client-node's models are classes, but its serializer takes plain objects (it reads
    // fields, never methods), and the API returns plain data: literals and spreads are right here.
    files: ['src/kube/**/*.ts'],
    rules: {
      '@typescript-eslint/no-unsafe-class-instance-assignment': 'off',
      '@typescript-eslint/no-misused-spread': 'off',
    },
  },
  // No function in src/ over 80 lines; the few still longer say so where they are.
  // The floors below each restate the two imports every floor but one is denied.
  {
    files: ['src/**/*.ts'],
    rules: {
      'max-lines-per-function': ['error', { max: 80 }],
      '@typescript-eslint/no-restricted-imports': ['error', { patterns: [CLIENT_NODE, PROCESSES] }],
      'no-restricted-syntax': ['error', LAZY_CLIENT_NODE, LAZY_PROCESSES, API_READS],
    },
  },
  // The layers (README, Layout): commands -> ops -> kube/helm/net -> core, with output beside.
  // Each floor may import only downwards; type-only imports of the shapes a layer returns are allowed.
  {
    files: ['src/core/**/*.ts'],
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          patterns: [
            { group: ['../*/**', '!../core/**'], message: 'core is pure: it imports only core.' },
            CLIENT_NODE,
            {
              group: [
                'node:child_process',
                'node:fs',
                'node:fs/promises',
                'node:dgram',
                'node:http',
                'node:https',
              ],
              message: 'core does no I/O: kube/, helm/ and net/ do.',
            },
          ],
          paths: [
            {
              name: 'node:net',
              importNames: ['connect', 'createConnection', 'createServer', 'Socket', 'Server'],
              message: 'core does no I/O: net/ does.',
            },
          ],
        },
      ],
    },
  },
  {
    files: ['src/output/**/*.ts'],
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['../kube/**', '../helm/**', '../net/**'],
              message: 'output formats what ops returns; it never reads the cluster.',
            },
            {
              group: ['../ops/**', '../commands/**'],
              allowTypeImports: true,
              message: 'output may name the types ops returns, nothing more.',
            },
            CLIENT_NODE,
            PROCESSES,
          ],
        },
      ],
    },
  },
  {
    files: ['src/commands/**/*.ts'],
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['../kube/**', '../helm/**', '../net/**'],
              allowTypeImports: true,
              message: 'commands call ops/, which reads and writes the cluster.',
            },
            CLIENT_NODE,
            PROCESSES,
          ],
        },
      ],
      // The same rule for the lazy import() that commands use to start fast.
      'no-restricted-syntax': [
        'error',
        {
          selector: 'ImportExpression[source.value=/^\\.\\.\\/(kube|net)\\//]',
          message: 'commands call ops/, which reads and writes the cluster.',
        },
        LAZY_CLIENT_NODE,
        LAZY_PROCESSES,
        API_READS,
      ],
    },
  },
  // ops orchestrates: it returns results, which commands print through output/.
  {
    files: ['src/ops/**/*.ts'],
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['../commands/**', '../output/**'],
              message: 'ops returns results; commands print them through output/.',
            },
            CLIENT_NODE,
            PROCESSES,
          ],
        },
      ],
    },
  },
  // kube, helm and net: below ops, each denied what another of them owns.
  belowOps(['src/kube/**/*.ts'], [PROCESSES], [LAZY_PROCESSES, API_READS]),
  belowOps(READERS, [PROCESSES], [LAZY_PROCESSES]),
  belowOps(['src/kube/exec-credential.ts'], [], [API_READS]),
  belowOps(['src/helm/**/*.ts'], [CLIENT_NODE], [LAZY_CLIENT_NODE, API_READS]),
  belowOps(['src/net/**/*.ts'], [CLIENT_NODE, PROCESSES], [LAZY_CLIENT_NODE, LAZY_PROCESSES, API_READS]),
  {
    files: ['**/*.js', '**/*.mjs', '**/*.cjs'],
    extends: [tseslint.configs.disableTypeChecked],
  },
  {
    // The single executable's require shim and the code-cache maker: CommonJS run by Node itself.
    files: ['scripts/package/*.cjs'],
    languageOptions: {
      sourceType: 'commonjs',
      globals: { require: 'readonly', module: 'writable', Buffer: 'readonly', process: 'readonly' },
    },
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
  {
    // Examples are programs for people to copy: plain Node globals, console output.
    files: ['examples/**/*.mjs'],
    languageOptions: { globals: { console: 'readonly', process: 'readonly' } },
    rules: { 'no-console': 'off' },
  },
  {
    files: ['test/**/*.ts', 'bench/**/*.ts', 'scripts/**/*.ts'],
    rules: {
      'no-console': 'off',
      '@typescript-eslint/no-non-null-assertion': 'off',
      '@typescript-eslint/no-floating-promises': 'off',
      // Tests read parsed manifests, which are untyped JSON by nature.
      '@typescript-eslint/no-explicit-any': 'off',
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
      // Fixtures are plain objects standing in for client-node's model classes.
      '@typescript-eslint/no-unsafe-class-instance-assignment': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      '@typescript-eslint/no-confusing-void-expression': 'off',
    },
  },
);
