import { BaseCommand } from '../base-command.js';
import { helmFlags, outputFlag } from '../flags.js';
import { ExposePodsError } from '../errors.js';

export interface VersionInfo {
  plugin: string;
  chart: { name: string; version: string; appVersion: string; path: string };
  helm: { path: string; version: string; major: number } | { error: string };
  node: string;
}

export default class Version extends BaseCommand {
  static override summary = 'Print the plugin, bundled chart and helm versions.';

  static override description =
    'Shows the plugin version, the chart it installs, and the helm it would run. A missing or unsupported helm is reported, not fatal: exit code 0.';

  static override examples = ['kubectl expose-pods version', 'kubectl expose-pods version -o json'];

  static override flags = {
    ...helmFlags,
    output: outputFlag(['text', 'json', 'yaml']),
  };

  async run(): Promise<VersionInfo> {
    const { flags } = await this.parse(Version);
    const { bundledChartInfo, bundledChartPath } = await import('../helm/chart.js');
    const { detectHelm } = await import('../helm/helm.js');
    const { line } = await import('../output/format.js');
    const chartPath = await bundledChartPath();
    const chart = await bundledChartInfo(chartPath);
    let helm: VersionInfo['helm'];
    try {
      const h = await detectHelm(flags['helm-binary']);
      helm = { path: h.path, version: h.version.raw, major: h.version.major };
    } catch (e) {
      if (!(e instanceof ExposePodsError)) throw e;
      helm = { error: e.message };
    }
    const info: VersionInfo = {
      plugin: this.config.version,
      chart: { ...chart, path: chartPath },
      helm,
      node: process.version,
    };
    await this.print(info, flags.output, {
      text: (i) =>
        [
          `kubectl-expose_pods ${i.plugin}`,
          `chart  ${i.chart.name} ${i.chart.version} (app ${i.chart.appVersion})`,
          'error' in i.helm
            ? `helm   not usable: ${i.helm.error}`
            : `helm   ${i.helm.version} (${i.helm.path})`,
          `node   ${i.node}`,
        ]
          .map(line)
          .join(''),
    });
    return info;
  }
}
