// A matchmaker hands a player the address of room N. Run with KUBECONFIG set:
//   node examples/matchmaker.mjs rooms game 1
import { resolveEndpoints } from 'kubectl-expose-pods';

const [release = 'expose-pods', namespace, room = '0'] = process.argv.slice(2);
const { endpoints } = await resolveEndpoints({ release, namespace });
const e = endpoints.find((x) => x.ordinal === Number(room));
if (!e?.ready) throw new Error(`room ${room} is not reachable now: ${e?.status ?? 'no such room'}`);
console.log(JSON.stringify({ room: e.pod, host: e.address, port: e.port, protocol: e.protocol }));
