import { canonicalOf, type CategoryGuard } from '../ml/onnx/category-guard';

/**
 * The unknown-category signal of a monitoring window: per categorical input of the served model,
 * the share of present logged values (as clients sent them) that the model scores as the unknown
 * category — outside its training categories after canonicalisation, what the server counts in
 * keel_unknown_category_values_total. A rising share is drift no distribution test shows well: the
 * reference has no bin for values it never saw, and the model cannot tell them apart.
 */
export interface UnknownShare {
  unknown: number;
  present: number;
  share: number;
}

export function unknownCategoryShares(
  guard: CategoryGuard,
  rows: readonly Readonly<Record<string, unknown>>[],
): Record<string, UnknownShare> {
  const result: Record<string, UnknownShare> = {};
  for (const input of guard.inputs) {
    let unknown = 0;
    let present = 0;
    for (const row of rows) {
      const canonical = canonicalOf(input, row[input.name]);
      if (canonical === undefined) continue;
      present++;
      if (!input.known.has(canonical)) unknown++;
    }
    result[input.name] = { unknown, present, share: present === 0 ? 0 : unknown / present };
  }
  return result;
}

/** The features whose unknown share exceeds `threshold`, once the window has `minRows` present values. */
export function unknownShareBreaches(shares: Record<string, UnknownShare>, threshold: number, minRows: number): string[] {
  return Object.entries(shares)
    .filter(([, s]) => s.present >= minRows && s.share > threshold)
    .map(([feature]) => feature)
    .sort();
}
