import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';

import { CHART_VALUE_PATHS, type ChartValues } from '../../src/core/chart-values.js';
import { ROOT } from '../support/tools.js';

interface SchemaNode {
  type?: string | string[];
  enum?: unknown[];
  properties?: Record<string, SchemaNode>;
}

const schema = JSON.parse(
  readFileSync(path.join(ROOT, 'charts/expose-pods/values.schema.json'), 'utf8'),
) as SchemaNode;

/** The JSON types a schema node allows: its type, or those of its enum's values. */
function typesOf(node: SchemaNode): string[] {
  if (node.type) return [node.type].flat();
  return [...new Set((node.enum ?? []).map((v) => (v === null ? 'null' : typeof v)))];
}

describe('ChartValues (core/chart-values.ts) against values.schema.json', () => {
  it('every path the plugin reads exists in the schema, with the types the TypeScript view allows', () => {
    for (const [dotted, types] of Object.entries(CHART_VALUE_PATHS)) {
      let node: SchemaNode | undefined = schema;
      for (const key of dotted.split('.')) node = node?.properties?.[key];
      assert.ok(node, `${dotted} is not in values.schema.json`);
      const allowed = typesOf(node);
      // The schema may allow null where the view does not need to; the view may not allow less.
      for (const t of allowed.filter((x) => x !== 'null'))
        assert.ok(types.includes(t), `${dotted}: schema allows ${t}`);
      assert.deepEqual(
        types.filter((t) => t !== 'null'),
        allowed.filter((t) => t !== 'null'),
        `${dotted}: ${types.join('|')} against ${allowed.join('|')}`,
      );
      assert.equal(types.includes('null'), allowed.includes('null'), `${dotted}: null`);
    }
  });

  it('the paths are every leaf of ChartValues, each with the JSON type of a value it holds', () => {
    const full: ChartValues = {
      room: {
        replicas: 3,
        onePerNode: true,
        podManagementPolicy: 'Parallel',
        failover: { notReadySeconds: 30, unreachableSeconds: null },
      },
      expose: { count: null, nodePortBase: 30000, nodePorts: [31000], type: 'NodePort' },
      redis: { enabled: true },
    };
    const jsonType = (v: unknown) =>
      v === null ? 'null' : Array.isArray(v) ? 'array' : Number.isInteger(v) ? 'integer' : typeof v;
    const leaves = (v: unknown, at: string[] = []): [string, string][] =>
      typeof v === 'object' && v !== null && !Array.isArray(v)
        ? Object.entries(v).flatMap(([k, x]) => leaves(x, [...at, k]))
        : [[at.join('.'), jsonType(v)]];
    const found = leaves(full);
    assert.deepEqual(found.map(([p]) => p).sort(), Object.keys(CHART_VALUE_PATHS).sort());
    for (const [p, t] of found) assert.ok(CHART_VALUE_PATHS[p]?.includes(t), `${p}: ${t}`);
  });
});
