import { spawn } from 'node:child_process';
import { access, constants } from 'node:fs/promises';
import path from 'node:path';

import { ExitCode, ExposePodsError } from '../errors.js';
import { helmFailure } from './errors.js';
import { parseHelmVersion, SUPPORTED_HELM_MAJORS, type HelmVersion } from './version.js';

const INSTALL_HINT =
  'Install Helm 3 or 4 (https://helm.sh/docs/intro/install/), put it on PATH, or pass --helm-binary /path/to/helm.';

/** A helm binary this plugin can drive. */
export interface Helm {
  path: string;
  version: HelmVersion;
}

export interface HelmResult {
  stdout: string;
  stderr: string;
  code: number;
}

async function isExecutable(file: string): Promise<boolean> {
  try {
    await access(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** Finds helm: the given path, or the first `helm` on PATH. */
export async function locateHelm(explicit?: string, envPath = process.env.PATH ?? ''): Promise<string> {
  if (explicit) {
    if (await isExecutable(explicit)) return explicit;
    throw new ExposePodsError(
      `--helm-binary ${explicit} is not an executable file`,
      ExitCode.HELM_MISSING,
      INSTALL_HINT,
    );
  }
  const names = process.platform === 'win32' ? ['helm.exe', 'helm'] : ['helm'];
  for (const dir of envPath.split(path.delimiter).filter(Boolean)) {
    for (const name of names) {
      const candidate = path.join(dir, name);
      if (await isExecutable(candidate)) return candidate;
    }
  }
  throw new ExposePodsError('helm was not found on PATH', ExitCode.HELM_MISSING, INSTALL_HINT);
}

/** Runs helm with the given arguments and collects its output; never throws on a non-zero exit. */
export function runHelm(
  helmPath: string,
  args: string[],
  onSpawn?: (pid: number) => void,
): Promise<HelmResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(helmPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    if (child.pid !== undefined) onSpawn?.(child.pid);
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.on('data', (b: Buffer) => err.push(b));
    child.on('error', (e) => {
      reject(
        new ExposePodsError(`cannot run ${helmPath}: ${e.message}`, ExitCode.HELM_MISSING, INSTALL_HINT),
      );
    });
    child.on('close', (code) => {
      resolve({
        stdout: Buffer.concat(out).toString('utf8'),
        stderr: Buffer.concat(err).toString('utf8'),
        code: code ?? 1,
      });
    });
  });
}

/** Locates helm and checks that it is Helm 3 or 4. */
export async function detectHelm(explicit?: string): Promise<Helm> {
  const helmPath = await locateHelm(explicit);
  const res = await runHelm(helmPath, ['version', '--short']);
  const version = res.code === 0 ? parseHelmVersion(res.stdout) : undefined;
  if (!version) {
    throw new ExposePodsError(
      `${helmPath} did not report a Helm version (\`helm version --short\` printed ${JSON.stringify((res.stdout + res.stderr).trim().slice(0, 200))})`,
      ExitCode.HELM_MISSING,
      INSTALL_HINT,
    );
  }
  if (!(SUPPORTED_HELM_MAJORS as readonly number[]).includes(version.major)) {
    throw new ExposePodsError(
      `${helmPath} is Helm ${version.raw}; this plugin supports Helm 3 and Helm 4`,
      ExitCode.HELM_MISSING,
      INSTALL_HINT,
    );
  }
  return { path: helmPath, version };
}

/** Runs helm and returns stdout, or throws a classified error on failure. */
export async function helmOrThrow(
  helm: Helm,
  action: string,
  args: string[],
  onSpawn?: (pid: number) => void,
): Promise<string> {
  const res = await runHelm(helm.path, args, onSpawn);
  if (res.code !== 0) throw helmFailure(action, res.stderr || res.stdout);
  return res.stdout;
}
