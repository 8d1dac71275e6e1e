import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';

import { parse } from 'yaml';

import { CHART_DIR, expectedReadme, leafKeys, lookup, parseParams } from '../../scripts/chart-readme.js';

const valuesText = readFileSync(`${CHART_DIR}/values.yaml`, 'utf8');
const values: unknown = parse(valuesText);
const params = parseParams(valuesText);
const schema = JSON.parse(readFileSync(`${CHART_DIR}/values.schema.json`, 'utf8')) as Record<string, any>;

function schemaHas(key: string): boolean {
  let node: Record<string, any> | undefined = schema;
  for (const part of key.split('.')) {
    node = node.properties?.[part] as Record<string, any> | undefined;
    if (!node) return false;
  }
  return true;
}

describe('values.yaml documents itself', () => {
  it('every value is covered by a ## @param on itself or a parent', () => {
    const documented = new Set(params.map((p) => p.key));
    const undocumented = leafKeys(values).filter((leaf) => {
      const parts = leaf.split('.');
      return !parts.some((_, i) => documented.has(parts.slice(0, i + 1).join('.')));
    });
    assert.deepEqual(undocumented, []);
  });

  it('every ## @param names a value that exists and that the schema checks', () => {
    for (const p of params) {
      assert.ok(lookup(values, p.key).found, `@param ${p.key} is not in values.yaml`);
      assert.ok(schemaHas(p.key), `@param ${p.key} is not in values.schema.json`);
    }
  });

  it('the chart README parameter tables match values.yaml (npm run chart:readme)', () => {
    const { current, expected } = expectedReadme();
    assert.equal(current, expected);
  });
});
