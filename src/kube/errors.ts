import { ExitCode, ExposePodsError, type ExitCodeValue } from '../errors.js';

/** An error from the Kubernetes API: the HTTP code, the Status reason, and a sentence for people. */
export class KubeApiError extends ExposePodsError {
  constructor(
    message: string,
    readonly httpCode: number | undefined,
    readonly reason: string | undefined,
    exitCode: ExitCodeValue,
    hint?: string,
  ) {
    super(message, exitCode, hint);
    this.name = 'KubeApiError';
  }
}

interface StatusBody {
  message?: string;
  reason?: string;
}

/** ApiException.body is a JSON string in client-node 1.x; anything else yields an empty Status. */
export function parseStatusBody(body: unknown): StatusBody {
  if (typeof body === 'string') {
    try {
      const parsed = JSON.parse(body) as unknown;
      return parsed && typeof parsed === 'object' ? parsed : {};
    } catch {
      return { message: body.trim() || undefined };
    }
  }
  return body && typeof body === 'object' ? body : {};
}

const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
]);

/**
 * Turns whatever client-node threw into a KubeApiError. `action` says what we
 * were doing, as "list pods in namespace game", so 403 names the verb and resource.
 */
// eslint-disable-next-line max-lines-per-function -- still to be split (issue 17)
export function toKubeError(e: unknown, action: string, server?: string): KubeApiError {
  const err = e as { code?: unknown; body?: unknown; message?: string; type?: string };
  const where = server ? ` at ${server}` : '';
  if (typeof err.code === 'number') {
    const status = parseStatusBody(err.body);
    const detail = status.message ?? `HTTP ${err.code}`;
    switch (err.code) {
      case 401:
        return new KubeApiError(
          `the API server${where} refused the credentials (401 Unauthorized) while trying to ${action}`,
          401,
          status.reason,
          ExitCode.CLUSTER_UNREACHABLE,
          'Refresh your credentials (for example log in again), or pick another --context.',
        );
      case 403:
        return new KubeApiError(
          `forbidden: you may not ${action} (403): ${detail}`,
          403,
          status.reason,
          ExitCode.FORBIDDEN,
          'Ask a cluster admin for a Role granting this, or use a --context that has it.',
        );
      case 409:
        return new KubeApiError(
          `conflict while trying to ${action} (409): ${detail}`,
          409,
          status.reason,
          ExitCode.CONFLICT,
          'Someone else changed it at the same time; run the command again.',
        );
      case 404:
        return new KubeApiError(
          `not found while trying to ${action}: ${detail}`,
          404,
          status.reason,
          ExitCode.NOT_FOUND,
        );
      default:
        return new KubeApiError(
          `the API server answered ${err.code} while trying to ${action}: ${detail}`,
          err.code,
          status.reason,
          ExitCode.ERROR,
        );
    }
  }
  if ((e as { name?: string }).name === 'AbortError' || err.type === 'aborted') {
    return new KubeApiError(
      `the Kubernetes API server${where} did not answer in time while trying to ${action} (--request-timeout)`,
      undefined,
      undefined,
      ExitCode.CLUSTER_UNREACHABLE,
      'Check that the API server is up (kubectl cluster-info), or raise --request-timeout.',
    );
  }
  const code = typeof err.code === 'string' ? err.code : undefined;
  if ((code && NETWORK_CODES.has(code)) || err.type === 'system' || err.type === 'request-timeout') {
    return new KubeApiError(
      `cannot reach the Kubernetes API server${where}: ${err.message ?? code ?? 'network error'}`,
      undefined,
      undefined,
      ExitCode.CLUSTER_UNREACHABLE,
      'Check --kubeconfig and --context, and that the API server is up (kubectl cluster-info).',
    );
  }
  if (code && /CERT|SELF_SIGNED|TLS|SSL/i.test(code)) {
    return new KubeApiError(
      `TLS to the API server${where} failed: ${err.message ?? code}`,
      undefined,
      undefined,
      ExitCode.CLUSTER_UNREACHABLE,
      "Check the cluster's certificate-authority in the kubeconfig.",
    );
  }
  return new KubeApiError(
    `failed to ${action}: ${err.message ?? String(e)}`,
    undefined,
    undefined,
    ExitCode.ERROR,
  );
}
