import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';

import { parse } from 'yaml';

import { embeddedChartPath } from './embedded-chart.js';

/**
 * The chart shipped with the plugin: charts/expose-pods in the npm package,
 * resolved from this file so a global install finds it; in the single
 * executable, the embedded copy, unpacked once into the user's cache.
 */
export async function bundledChartPath(): Promise<string> {
  // dist/helm/chart.js and src/helm/chart.ts both sit two levels below the package root.
  return (await embeddedChartPath()) ?? fileURLToPath(new URL('../../charts/expose-pods', import.meta.url));
}

export interface ChartInfo {
  name: string;
  version: string;
  appVersion: string;
}

/** Reads name, version and appVersion from the bundled Chart.yaml. */
export async function bundledChartInfo(chartPath: string): Promise<ChartInfo> {
  // appVersion may parse as a number (2.53 unquoted), so every field goes through String().
  const doc = parse(await readFile(`${chartPath}/Chart.yaml`, 'utf8')) as Record<string, unknown>;
  const field = (k: string): string =>
    typeof doc[k] === 'string' || typeof doc[k] === 'number' ? String(doc[k]) : '';
  return { name: field('name'), version: field('version'), appVersion: field('appVersion') };
}

/**
 * The chart's defaults (values.yaml) and schema (values.schema.json, base64 as
 * Helm's release JSON carries it): what a locally rendered change is planned
 * with, as the upgrade dry run's `chart.values` and `chart.schema` would be.
 */
export async function bundledChartDefaults(
  chartPath: string,
): Promise<{ values: Record<string, unknown>; schema?: string }> {
  const values = (parse(await readFile(`${chartPath}/values.yaml`, 'utf8')) ?? {}) as Record<string, unknown>;
  const schema = await readFile(`${chartPath}/values.schema.json`).then(
    (b) => b.toString('base64'),
    () => undefined,
  );
  return { values, ...(schema ? { schema } : {}) };
}
