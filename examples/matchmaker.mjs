// A matchmaker hands a new match a room of its own, and frees it when the match ends. Run with KUBECONFIG set:
//   node examples/matchmaker.mjs rooms game m-42         # the match starts: its room
//   node examples/matchmaker.mjs rooms game m-42 --end   # the match ended: its room is Free again
// The match id is the allocation id: run either again (a retry after a timeout) and nothing more changes.
import { allocate, deallocate, ExitCode } from 'kubectl-expose-pods';

const [release = 'expose-pods', namespace, match = `m-${Date.now()}`, end] = process.argv.slice(2);
if (end === '--end') {
  const { wasAllocated } = await deallocate({ release, namespace, allocationId: match });
  console.log(JSON.stringify({ match, ended: wasAllocated })); // false: it had ended already, nothing written
} else {
  try {
    const e = await allocate({ release, namespace, allocationId: match, metadata: { match } });
    console.log(JSON.stringify({ match, room: e.pod, host: e.address, port: e.port, protocol: e.protocol }));
  } catch (err) {
    if (err.exitCode !== ExitCode.NO_FREE_ROOM) throw err;
    console.error(err.message); // every room is in use: try later, or scale up
    process.exitCode = ExitCode.NO_FREE_ROOM;
  }
}
