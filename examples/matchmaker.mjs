// A matchmaker hands a new match a room of its own. Run with KUBECONFIG set:
//   node examples/matchmaker.mjs rooms game m-42
import { allocate, ExitCode } from 'kubectl-expose-pods';

const [release = 'expose-pods', namespace, match = `m-${Date.now()}`] = process.argv.slice(2);
try {
  const e = await allocate({ release, namespace, metadata: { match } });
  console.log(JSON.stringify({ match, room: e.pod, host: e.address, port: e.port, protocol: e.protocol }));
} catch (err) {
  if (err.exitCode !== ExitCode.NO_FREE_ROOM) throw err;
  console.error(err.message); // every room is in use: try later, or scale up
  process.exitCode = ExitCode.NO_FREE_ROOM;
}
// When the match ends: await deallocate({ release, namespace, pod: room });
