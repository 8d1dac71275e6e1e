import { cordonedKeptLine, listed as names } from '../core/rollout.js';
import type { RolloutPlan } from '../ops/rollout-run.js';
import type { RolloutResult } from '../ops/rollout.js';

/** The plan of a rollout, for stderr. */
export function formatRolloutPlan(p: RolloutPlan, deleteInUse: boolean): string {
  const lines = [
    `release ${p.release} in ${p.cluster}:`,
    p.restart
      ? '  a new pod template revision for every room (room.restartedAt), nothing else changed'
      : `  rooms on revision ${p.revision ?? '(unknown)'}: ${p.updated}/${p.total}`,
  ];
  lines.push(
    p.replace.length
      ? `  rooms replaced (in batches of ${p.batch}, each Ready before the next; a room allocated meanwhile is left alone): ${names(p.replace)}`
      : '  no Free room to replace',
  );
  if (p.inUse.length)
    lines.push(
      deleteInUse
        ? `  rooms in use replaced too, their matches ended (--delete-in-use): ${names(p.inUse)}`
        : `  rooms in use that keep their build until their match ends (deallocate replaces each): ${names(p.inUse)}`,
    );
  const cordoned = cordonedKeptLine(p.cordoned);
  if (cordoned) lines.push(`  ${cordoned}`);
  return lines.join('\n');
}

/** The outcome, for stderr: what was replaced, and what is left for the matches to end. */
export function formatRolloutOutcome(res: RolloutResult | undefined, where: string): string[] {
  if (!res) return [];
  const lines = [
    `rooms on revision ${res.revision ?? '(new)'}: ${res.updated}/${res.total}; replaced ${res.replaced.length}${res.replaced.length ? `: ${names(res.replaced)}` : ''}`,
  ];
  if (res.inUseOutdated.length)
    lines.push(
      `${res.inUseOutdated.length} room(s) in use still run an older revision: ${names(res.inUseOutdated)}. Each is replaced when its match ends (kubectl expose-pods deallocate ${where} POD); wait for them with: kubectl expose-pods rollout ${where} --wait-in-use`,
    );
  const cordoned = cordonedKeptLine(res.cordonedOutdated);
  if (cordoned) lines.push(`${cordoned}: kubectl expose-pods uncordon ${where} POD, then rollout again`);
  return lines;
}
