import { canonicalOf, type CategoryGuard } from '../ml/onnx/category-guard';
import { enumToken } from '../shared/category-spellings';
import { type Instance, RequestError, show } from './predict';

/**
 * Unknown categories at serving, by the model's category guard (src/ml/onnx/category-guard.ts,
 * read from its graph when it loads). A request's value is unknown when its canonical form is none of the training
 * categories; every unknown value is counted, then per policy:
 *   bucket (default) — scored as the unknown category, as the graph does by itself;
 *   reject — the request is answered 422, naming the instance, the feature and the value;
 *   nearest — scored as the known category whose token is nearest by edit distance (at most 2),
 *             else bucketed.
 */

const NEAREST_MAX_DISTANCE = 2;

export interface Screened {
  /** Unknown values per feature in this request (features without any are absent). */
  unknown: Record<string, number>;
  /** The instances to score when `nearest` replaced a value (the log keeps what was sent). */
  rewritten?: Instance[];
  /** A 422 naming the first value a `reject` feature refused; the request is not scored. */
  rejection?: RequestError;
}

/** Counts the unknown values of a request and applies each feature's policy (`reject`: the 422 to answer). */
export function screenCategories(guard: CategoryGuard, instances: readonly Instance[]): Screened {
  const unknown: Record<string, number> = {};
  let rewritten: Instance[] | undefined;
  let rejection: RequestError | undefined;
  for (const input of guard.inputs) {
    for (let i = 0; i < instances.length; i++) {
      const value = instances[i][input.name];
      const canonical = canonicalOf(input, value);
      if (canonical === undefined || input.known.has(canonical)) continue;
      unknown[input.name] = (unknown[input.name] ?? 0) + 1;
      if (input.policy === 'reject') {
        rejection ??= new RequestError(
          422,
          `instances[${i}].${input.name}: unknown category ${show(value)} (feature "${input.name}" rejects values outside its ${input.known.size} training categories)`,
        );
        continue;
      }
      if (input.policy === 'nearest') {
        const nearest = nearestCategory(enumToken(canonical), input.byToken!);
        if (nearest !== undefined) {
          rewritten ??= instances.map((instance) => ({ ...instance }));
          rewritten[i][input.name] = nearest;
        }
      }
    }
  }
  return { unknown, ...(rewritten && { rewritten }), ...(rejection && { rejection }) };
}

function nearestCategory(token: string, byToken: ReadonlyMap<string, string>): string | undefined {
  let best: string | undefined;
  let bestDistance = NEAREST_MAX_DISTANCE + 1;
  for (const [known, category] of byToken) {
    if (Math.abs(known.length - token.length) >= bestDistance) continue;
    const distance = editDistance(token, known, bestDistance);
    if (distance < bestDistance || (distance === bestDistance && best !== undefined && category < best)) {
      bestDistance = distance;
      best = category;
    }
  }
  return bestDistance <= NEAREST_MAX_DISTANCE ? best : undefined;
}

/** Levenshtein distance, giving up (returning `limit`) once every path exceeds it. */
function editDistance(a: string, b: string, limit: number): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    let rowMin = i;
    for (let j = 1; j <= b.length; j++) {
      current[j] = Math.min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
      rowMin = Math.min(rowMin, current[j]);
    }
    if (rowMin >= limit) return limit;
    previous = current;
  }
  return Math.min(previous[b.length], limit);
}
