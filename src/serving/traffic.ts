/**
 * Traffic assignment between a model's baseline and candidate. With a routing key the choice is a
 * pure function of (model, candidate, key): every replica sends the key the same way, and since
 * a key goes to the candidate when its point is below the weight, raising the weight only moves
 * keys from the baseline to the candidate, never back. A new candidate reshuffles the keys.
 */

/** A point in [0, 1) for the key: FNV-1a over the UTF-16 units, then murmur3's finaliser for avalanche. */
export function stickyPoint(model: string, candidate: number, key: string): number {
  let h = 0x811c9dc5;
  const text = `${model}\u0000${candidate}\u0000${key}`;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return (h >>> 0) / 0x1_0000_0000;
}

/** True when this request goes to (or, in shadow mode, is mirrored to) the candidate. */
export function choosesCandidate(
  route: { model: string; candidate: number; weight: number },
  key: string | undefined,
  random: () => number = Math.random,
): boolean {
  if (route.weight <= 0) return false;
  if (route.weight >= 1) return true;
  const point = key === undefined ? random() : stickyPoint(route.model, route.candidate, key);
  return point < route.weight;
}
