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

interface ThrownByClient {
  code?: unknown;
  body?: unknown;
  message?: string;
  type?: string;
  name?: string;
}

/** The API server answered with an HTTP status: 401, 403, 409 and 404 each get their own sentence and exit code. */
function fromHttpStatus(code: number, body: unknown, action: string, where: string): KubeApiError {
  const status = parseStatusBody(body);
  const detail = status.message ?? `HTTP ${code}`;
  const make = (message: string, exitCode: ExitCodeValue, hint?: string) =>
    new KubeApiError(message, code, status.reason, exitCode, hint);
  switch (code) {
    case 401:
      return make(
        `the API server${where} refused the credentials (401 Unauthorized) while trying to ${action}`,
        ExitCode.CLUSTER_UNREACHABLE,
        'Refresh your credentials (for example log in again), or pick another --context.',
      );
    case 403:
      return make(
        `forbidden: you may not ${action} (403): ${detail}`,
        ExitCode.FORBIDDEN,
        'Ask a cluster admin for a Role granting this, or use a --context that has it.',
      );
    case 409:
      return make(
        `conflict while trying to ${action} (409): ${detail}`,
        ExitCode.CONFLICT,
        'Someone else changed it at the same time; run the command again.',
      );
    case 404:
      return make(`not found while trying to ${action}: ${detail}`, ExitCode.NOT_FOUND);
    default:
      return make(`the API server answered ${code} while trying to ${action}: ${detail}`, ExitCode.ERROR);
  }
}

/** No HTTP answer: a timeout, a network error or a TLS failure, each with what to check. */
function fromTransport(err: ThrownByClient, e: unknown, action: string, where: string): KubeApiError {
  const make = (message: string, exitCode: ExitCodeValue, hint?: string) =>
    new KubeApiError(message, undefined, undefined, exitCode, hint);
  if (err.name === 'AbortError' || err.type === 'aborted') {
    return make(
      `the Kubernetes API server${where} did not answer in time while trying to ${action} (--request-timeout)`,
      ExitCode.CLUSTER_UNREACHABLE,
      'Check that the API server is up (kubectl cluster-info), or raise --request-timeout.',
    );
  }
  const code = typeof err.code === 'string' ? err.code : undefined;
  if ((code && NETWORK_CODES.has(code)) || err.type === 'system' || err.type === 'request-timeout') {
    return make(
      `cannot reach the Kubernetes API server${where}: ${err.message ?? code ?? 'network error'}`,
      ExitCode.CLUSTER_UNREACHABLE,
      'Check --kubeconfig and --context, and that the API server is up (kubectl cluster-info).',
    );
  }
  if (code && /CERT|SELF_SIGNED|TLS|SSL/i.test(code)) {
    return make(
      `TLS to the API server${where} failed: ${err.message ?? code}`,
      ExitCode.CLUSTER_UNREACHABLE,
      "Check the cluster's certificate-authority in the kubeconfig.",
    );
  }
  return make(`failed to ${action}: ${err.message ?? String(e)}`, ExitCode.ERROR);
}

/**
 * Turns whatever client-node threw into a KubeApiError. `action` says what we
 * were doing, as "list pods in namespace game", so 403 names the verb and resource.
 */
export function toKubeError(e: unknown, action: string, server?: string): KubeApiError {
  // Already ours: a credential plugin that failed before the request went out.
  if (e instanceof KubeApiError) return e;
  const err = (e ?? {}) as ThrownByClient;
  const where = server ? ` at ${server}` : '';
  if (typeof err.code === 'number') return fromHttpStatus(err.code, err.body, action, where);
  return fromTransport(err, e, action, where);
}
