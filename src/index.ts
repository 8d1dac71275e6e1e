/**
 * kubectl-expose-pods as a library, for matchmakers and other programs:
 * the same resolution as `kubectl expose-pods endpoints -o json`, and
 * its --watch as an async iterator.
 */
export { releaseEndpoints as resolveEndpoints } from './ops/endpoints.js';
export type { EndpointsOptions, EndpointsReport } from './ops/endpoints.js';
export { allocate, deallocate } from './ops/allocate.js';
export { createAllocator } from './ops/allocator.js';
export type { Allocator, AllocatorCall, AllocatorOptions } from './ops/allocator.js';
export { createAutoscaler } from './ops/autoscale.js';
export type {
  Autoscaler,
  AutoscalerOptions,
  AutoscaleEvent,
  AutoscaleEventBody,
  AutoscalePolicyView,
  AutoscaleRooms,
} from './ops/autoscale.js';
export type { AllocateOptions, DeallocateOptions, Deallocation } from './ops/allocate.js';
export type { Allocation, RoomState } from './core/rooms.js';
export { watchEndpoints } from './ops/endpoints-watch.js';
export type { EndpointsUpdate, WatchEndpointsOptions } from './ops/endpoints-watch.js';
export type { EndpointChange, EndpointChangeType } from './core/endpoint-changes.js';
export type { Endpoint, EndpointStatus } from './core/endpoints.js';
export { DEFAULT_ADDRESS_TYPES } from './core/endpoints.js';
export { ExitCode, ExposePodsError } from './errors.js';
