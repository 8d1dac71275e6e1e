import net from 'node:net';

import type { ConnectOutcome } from '../core/probe.js';

/** One TCP connect with a deadline: reachable, refused, timeout, or the error code. */
export function tcpConnect(host: string, port: number, timeoutMs: number): Promise<ConnectOutcome> {
  return new Promise((resolve) => {
    const socket = net.connect({ host, port });
    const done = (outcome: ConnectOutcome) => {
      socket.destroy();
      resolve(outcome);
    };
    socket.setTimeout(timeoutMs, () => {
      done('timeout');
    });
    socket.once('connect', () => {
      done('reachable');
    });
    socket.once('error', (e: NodeJS.ErrnoException) => {
      done(e.code === 'ECONNREFUSED' ? 'refused' : `error ${e.code ?? e.message}`);
    });
  });
}
