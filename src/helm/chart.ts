import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';

import { parse } from 'yaml';

/** The chart shipped with the package, resolved from this file so a global npm install finds it. */
export function bundledChartPath(): string {
  // dist/helm/chart.js and src/helm/chart.ts both sit two levels below the package root.
  return fileURLToPath(new URL('../../charts/expose-pods', import.meta.url));
}

export interface ChartInfo {
  name: string;
  version: string;
  appVersion: string;
}

/** Reads name, version and appVersion from the bundled Chart.yaml. */
export async function bundledChartInfo(): Promise<ChartInfo> {
  // appVersion may parse as a number (2.53 unquoted), so every field goes through String().
  const doc = parse(await readFile(`${bundledChartPath()}/Chart.yaml`, 'utf8')) as Record<string, unknown>;
  const field = (k: string): string =>
    typeof doc[k] === 'string' || typeof doc[k] === 'number' ? String(doc[k]) : '';
  return { name: field('name'), version: field('version'), appVersion: field('appVersion') };
}
