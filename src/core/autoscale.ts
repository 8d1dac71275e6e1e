/**
 * The autoscaler's decisions: how many rooms a buffer of Free rooms needs,
 * and when the fleet grows or shrinks. Pure: ops/autoscale.ts feeds it the
 * rooms as the watches show them and a clock, and applies what it decides
 * through the one change path.
 */
import type { Endpoint } from './endpoints.js';
import { countRooms } from './rooms.js';

/** --buffer: a count of Free rooms, or a percentage of the fleet kept Free. */
export type Buffer = { count: number } | { percent: number };

/** The autoscaler's settings, as the flags give them. */
export interface AutoscalePolicy {
  buffer: Buffer;
  min: number;
  max: number;
  /** How long a surplus of Free rooms must last before rooms are removed. */
  scaleDownDelayMs: number;
  /** --lead: a scale-up adds the rooms taken while the last step ran (stepLead); off, Agones' plain Buffer. */
  lead: boolean;
}

/** The annotation of the autoscaler's Lease that holds its settings (status shows them). */
export const AUTOSCALER_POLICY_ANNOTATION = 'expose-pods.io/autoscaler-policy';

/** The default --scale-down-delay. */
export const DEFAULT_SCALE_DOWN_DELAY = '5m';

/** Parses --buffer ("3", "25%"); a sentence saying what is wrong otherwise. */
export function parseBuffer(text: string): Buffer | string {
  const t = text.trim();
  const pct = /^(\d+)%$/.exec(t);
  if (pct) {
    const percent = Number(pct[1]);
    if (percent >= 1 && percent <= 99) return { percent };
  } else if (/^\d+$/.test(t)) {
    return { count: Number(t) };
  }
  return `--buffer ${text}: use a count of Free rooms (0 or more) or a percentage of the rooms kept Free (1% to 99%), for example 3 or 25%`;
}

/** "3" or "25%": a buffer as the flag takes it. */
export function bufferText(b: Buffer): string {
  return 'count' in b ? String(b.count) : `${b.percent}%`;
}

/** What is wrong with the settings together, each a sentence; empty when nothing is. */
export function policyProblems(p: Pick<AutoscalePolicy, 'buffer' | 'min' | 'max'>): string[] {
  const out: string[] = [];
  if (!Number.isInteger(p.max) || p.max < 1) out.push(`--max ${p.max} must be a whole number, 1 or more`);
  if (!Number.isInteger(p.min) || p.min < 0) out.push(`--min ${p.min} must be a whole number, 0 or more`);
  else if (p.min > p.max) out.push(`--min ${p.min} is more than --max ${p.max}`);
  // With no room, no allocation ever comes to ask for one: a buffer that can reach 0 rooms needs a floor.
  const canEmpty = 'percent' in p.buffer || p.buffer.count === 0;
  if (canEmpty && p.min === 0)
    out.push(
      `--buffer ${bufferText(p.buffer)} with --min ${p.min} can shrink the fleet to no room, and no allocation would bring one back: give --min 1 or more`,
    );
  if ('count' in p.buffer && p.buffer.count > p.max)
    out.push(`--buffer ${p.buffer.count} is more than --max ${p.max}: the buffer could never be kept`);
  return out;
}

/**
 * The rooms a buffer needs on top of `taken` rooms (Agones' Buffer policy):
 * taken + N for a count; for P%, the smallest fleet of which P% are Free,
 * ceil(taken × 100 / (100 − P)).
 */
export function bufferTarget(taken: number, buffer: Buffer): number {
  if ('count' in buffer) return taken + buffer.count;
  return Math.ceil((taken * 100) / (100 - buffer.percent));
}

/** The fleet as the autoscaler sees it: what its decisions depend on. */
export interface Fleet {
  /** The StatefulSet's spec.replicas. */
  replicas: number;
  /** Rooms below the replicas that hold a match (cordoned ones included). */
  allocated: number;
  /** Rooms below the replicas held out of rotation by `cordon`, and not in use. */
  cordoned: number;
  /** Rooms a match could be given now. */
  free: number;
  /** Rooms below the replicas marked Draining and not in use: left so by a scale that did not finish (or one running now). */
  draining: number;
  /** The highest ordinal below the replicas that no scale-down may remove (a room in use or cordoned); -1 when none. */
  highestKept: number;
}

/** The fleet from the rows of the release (core/endpoints.ts), as the watches have them. */
export function fleetOf(rows: readonly Endpoint[], replicas: number): Fleet {
  const fleet: Fleet = {
    replicas,
    allocated: 0,
    cordoned: 0,
    free: countRooms(rows).free,
    draining: 0,
    highestKept: -1,
  };
  for (const r of rows) {
    // Above the replicas the StatefulSet removes rooms already: not ours to count.
    if (r.ordinal >= replicas) continue;
    // A room in use shows Allocated whatever else marks it (cordoned, Draining).
    if (r.state === 'Allocated') fleet.allocated++;
    else if (r.state === 'Cordoned') fleet.cordoned++;
    else {
      if (r.state === 'Draining') fleet.draining++;
      continue;
    }
    fleet.highestKept = Math.max(fleet.highestKept, r.ordinal);
  }
  return fleet;
}

/**
 * The replicas the policy wants: the buffer on top of the rooms taken (in
 * use, or cordoned: neither can take a match), within --min and --max.
 */
export function desiredReplicas(policy: AutoscalePolicy, fleet: Fleet): number {
  const want = bufferTarget(fleet.allocated + fleet.cordoned, policy.buffer);
  return Math.min(policy.max, Math.max(policy.min, want));
}

/** The last step that finished, as the lead needs it. */
export interface StepSpan {
  /** When it was decided and when the watches showed its replicas (ms). */
  startedAt: number;
  endedAt: number;
  /** The rooms taken (allocated or cordoned) when it was decided, and when it ended. */
  takenBefore: number;
  takenAfter: number;
}

/**
 * The lead (--lead): the rooms taken while the last step ran, which is what
 * the next step can expect to be taken while it runs. A scale-up adds it to
 * the buffer, so the rooms it brings are not already spent when they arrive.
 * At most `cap`, the buffer's own rooms (a burst does not double the fleet);
 * 0 before any step, when the rooms taken fell while it ran, and once the last step
 * ended longer ago than it lasted (what it saw is no stream any more).
 */
export function stepLead(last: StepSpan | undefined, now: number, cap: number): number {
  if (!last || now - last.endedAt > last.endedAt - last.startedAt) return 0;
  return Math.min(cap, Math.max(0, last.takenAfter - last.takenBefore));
}

/** The buffer's rooms on top of what the fleet has taken (for a percentage, at the current size). */
export function bufferRooms(policy: AutoscalePolicy, fleet: Fleet): number {
  const taken = fleet.allocated + fleet.cordoned;
  return bufferTarget(taken, policy.buffer) - taken;
}

/**
 * The lowest the replicas may go now: what the policy wants, and never below
 * a room in use or cordoned (a scale-down removes the highest ordinals, so
 * it removes only Free rooms and never waits on a match).
 */
export function scaleDownFloor(policy: AutoscalePolicy, fleet: Fleet): number {
  return Math.max(desiredReplicas(policy, fleet), fleet.highestKept + 1);
}

/** What the autoscaler remembers between decisions: since when there is a surplus, and the most it needed since. */
export interface SurplusClock {
  /** When the replicas first exceeded what the policy wants, this time round (ms); undefined without a surplus. */
  since?: number;
  /** The highest floor seen since then: a scale-down goes no lower than any moment of the delay needed. */
  floor?: number;
}

/** One decision. */
export type Decision =
  /** `lead`: the rooms added for the allocations expected while the step runs. */
  | { kind: 'up'; from: number; to: number; lead: number }
  | { kind: 'down'; from: number; to: number }
  /** A surplus, to be removed at `at` (ms) unless it goes away. */
  | { kind: 'pending'; from: number; to: number; at: number }
  | { kind: 'hold'; replicas: number };

/**
 * What to do now, and the clock to keep. Scale-up at once to what the policy
 * wants plus the `lead` (stepLead; 0 without --lead): while allocations
 * stream in, steps follow one another without waiting for Free to fall below
 * the buffer. A surplus is removed only once it has lasted the delay, down
 * to the highest floor seen during the delay (as an HPA's stabilization
 * window does); rooms the lead still wants are no surplus, but the floor a
 * scale-down goes to has no lead. Above --max, the Free rooms over it go at once.
 */
export function decide(
  policy: AutoscalePolicy,
  fleet: Fleet,
  clock: SurplusClock,
  now: number,
  lead = 0,
): { decision: Decision; clock: SurplusClock } {
  const from = fleet.replicas;
  const want = desiredReplicas(policy, fleet);
  const led = Math.min(policy.max, want + lead);
  if (led > from) return { decision: { kind: 'up', from, to: led, lead: led - want }, clock: {} };
  const floor = scaleDownFloor(policy, fleet);
  if (Math.max(floor, led) >= from) return { decision: { kind: 'hold', replicas: from }, clock: {} };
  // (Below the floor, so above the highest room kept: the rooms over --max are all Free.)
  if (from > policy.max)
    return { decision: { kind: 'down', from, to: Math.max(policy.max, fleet.highestKept + 1) }, clock: {} };
  // A clock from a surplus over more replicas than now (someone scaled down meanwhile) starts again.
  const going = (clock.floor ?? Infinity) < from ? clock : {};
  const since = going.since ?? now;
  const kept = Math.max(going.floor ?? floor, floor);
  const at = since + policy.scaleDownDelayMs;
  // Rooms the lead still wants stay: removing them would only bring the next decision to add them back.
  const to = Math.max(kept, led);
  if (now >= at) return { decision: { kind: 'down', from, to }, clock: {} };
  return { decision: { kind: 'pending', from, to, at }, clock: { since, floor: kept } };
}

/** "Allocated 7, Free 1": the counts a decision line starts with (cordoned rooms when there are any). */
export function fleetPhrase(fleet: Fleet): string {
  return `Allocated ${fleet.allocated}${fleet.cordoned ? `, Cordoned ${fleet.cordoned}` : ''}, Free ${fleet.free}`;
}

/**
 * Why a decision scales, in one line: "Allocated 7, Free 1 < buffer 3: scaling 8 -> 10",
 * "..., below --min 3: ...", "..., above --max 20: ...", "... > buffer 3 for 5m: ...".
 */
export function decisionLine(policy: AutoscalePolicy, fleet: Fleet, d: Decision, delay: string): string {
  const buffer = `buffer ${bufferText(policy.buffer)}`;
  const counts = fleetPhrase(fleet);
  switch (d.kind) {
    case 'up': {
      const wanted = bufferTarget(fleet.allocated + fleet.cordoned, policy.buffer);
      const want = d.to - d.lead;
      // Without the lead the fleet would have held: the buffer is kept, and the step is for what comes next.
      const kept = want <= d.from;
      const why = kept ? `, ${buffer}` : wanted < want ? `, below --min ${policy.min}` : ` < ${buffer}`;
      const lead = d.lead ? ` (+${d.lead} taken during the last step, expected during this one)` : '';
      return `${counts}${why}${lead}: scaling ${d.from} -> ${d.to}`;
    }
    case 'down': {
      const why = d.from > policy.max ? `, above --max ${policy.max}` : ` > ${buffer} for ${delay}`;
      return `${counts}${why}: scaling ${d.from} -> ${d.to}, removing only Free rooms`;
    }
    case 'pending':
      return `${counts} > ${buffer}: scaling ${d.from} -> ${d.to} at ${new Date(d.at).toISOString()} (after ${delay}) unless rooms are allocated meanwhile`;
    case 'hold':
      return `${counts}: ${d.replicas} rooms keep the ${buffer}`;
  }
}
