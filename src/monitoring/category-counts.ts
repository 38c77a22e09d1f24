/**
 * Counts per category as plain data (structured-cloneable, so a window's counts can cross worker
 * threads): each category gets a slot in a growable array, so a value costs one hash lookup.
 */
export interface CategoryCounts {
  slots: Map<string, number>;
  tally: Float64Array;
}

export function emptyCategoryCounts(): CategoryCounts {
  return { slots: new Map(), tally: new Float64Array(64) };
}

/** Counts one value; false (not counted) when it is a new category and `maxTracked` are counted already. */
export function countCategory(counts: CategoryCounts, category: string, maxTracked = Number.POSITIVE_INFINITY): boolean {
  const slot = counts.slots.get(category);
  if (slot !== undefined) {
    counts.tally[slot]++;
    return true;
  }
  if (counts.slots.size >= maxTracked) return false;
  if (counts.slots.size === counts.tally.length) {
    const grown = new Float64Array(counts.tally.length * 2);
    grown.set(counts.tally);
    counts.tally = grown;
  }
  counts.tally[counts.slots.size] = 1;
  counts.slots.set(category, counts.slots.size);
  return true;
}

export function categoryEntries(counts: CategoryCounts): [string, number][] {
  return [...counts.slots].map(([category, slot]) => [category, counts.tally[slot]]);
}
