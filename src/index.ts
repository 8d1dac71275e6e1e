/**
 * kubectl-expose-pods as a library, for matchmakers and other programs:
 * the same resolution as `kubectl expose-pods endpoints -o json`.
 */
export { releaseEndpoints as resolveEndpoints } from './ops/endpoints.js';
export type { EndpointsOptions, EndpointsReport } from './ops/endpoints.js';
export type { Endpoint, EndpointStatus } from './core/endpoints.js';
export { DEFAULT_ADDRESS_TYPES } from './core/endpoints.js';
export { ExitCode, ExposePodsError } from './errors.js';
