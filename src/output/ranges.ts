/** Ordinals as ranges: 0–2, 5, 7–9 (sorted, each once). */
export function ordinalRanges(ordinals: readonly number[]): string {
  const sorted = [...new Set(ordinals)].sort((a, b) => a - b);
  const parts: string[] = [];
  for (let i = 0; i < sorted.length;) {
    let j = i;
    while (j + 1 < sorted.length && sorted[j + 1] === (sorted[j] ?? 0) + 1) j++;
    parts.push(i === j ? `${sorted[i]}` : `${sorted[i]}–${sorted[j]}`);
    i = j + 1;
  }
  return parts.join(', ');
}

/** How many items of a kind (rooms, problems) are named one by one before they are summarised by ordinal ranges. */
export const LISTED = 3;

/**
 * The rooms a warning is about: their names when there are at most three, or
 * "500 rooms (ordinals 1000–1499)", so a warning stays one short line at any size.
 */
export function roomList(rooms: readonly { pod: string; ordinal: number }[]): string {
  if (rooms.length <= LISTED) return rooms.map((r) => r.pod).join(', ');
  return `${rooms.length} rooms (ordinals ${ordinalRanges(rooms.map((r) => r.ordinal))})`;
}
