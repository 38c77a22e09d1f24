import { distance } from 'fastest-levenshtein';
import { z } from 'zod';

/**
 * Strict inputs: every object keel accepts from a person or a program (workflow inputs,
 * keel.config.json, dataset and feature specs, HTTP bodies) is built with `strictObject`, so an
 * unknown key is refused rather than ignored — a misspelt gate is a gate that does not exist.
 * The refusal names the key and, for a near miss, the key that was meant:
 * `gate.minRocAUC: unknown key (did you mean minRocAuc?)` (see describeIssues).
 * Pure module: it is bundled into the workflow sandbox.
 */

/** A zod object that refuses unknown keys, with a suggestion for each one. */
export function strictObject<T extends z.core.$ZodLooseShape>(shape: T): z.ZodObject<z.core.util.Writeable<T>, z.core.$strict> {
  return z.strictObject(shape, { error: unknownKeyError });
}

/** The message of an `unrecognized_keys` issue; other issues keep zod's own message. */
function unknownKeyError(issue: z.core.$ZodRawIssue): string | undefined {
  if (issue.code !== 'unrecognized_keys') return undefined;
  const shape = (issue.inst as z.ZodObject | undefined)?._zod.def.shape;
  return unknownKeysMessage(issue.keys, shape ? Object.keys(shape) : []);
}

const MAX_LISTED_KEYS = 12;

/**
 * `unknown key (did you mean minRocAuc?)` for one key (describeIssues puts the key in the path);
 * for several, each is named: `unknown keys: deplyo (did you mean deploy?), colour`.
 */
export function unknownKeysMessage(keys: readonly string[], known: readonly string[]): string {
  if (keys.length === 1) {
    const suggestion = suggestKey(keys[0], known);
    if (suggestion) return `unknown key (did you mean ${suggestion}?)`;
    if (known.length === 0) return 'unknown key (this object takes no keys)';
    const listed = known.slice(0, MAX_LISTED_KEYS).join(', ');
    return `unknown key (known keys: ${listed}${known.length > MAX_LISTED_KEYS ? ', …' : ''})`;
  }
  const named = keys.map((key) => {
    const suggestion = suggestKey(key, known);
    return suggestion ? `${key} (did you mean ${suggestion}?)` : key;
  });
  return `unknown keys: ${named.join(', ')}`;
}

/**
 * The known key a misspelt one most likely meant: the same letters in another case, else the
 * nearest by edit distance when it is close (at most a third of the key's length, at least 1:
 * `deplyo` → `deploy`), else none.
 */
export function suggestKey(key: string, known: readonly string[]): string | undefined {
  const lower = key.toLowerCase();
  const sameLetters = known.find((candidate) => candidate.toLowerCase() === lower);
  if (sameLetters) return sameLetters;
  const limit = Math.max(1, Math.floor(key.length / 3));
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const candidate of known) {
    const d = distance(lower, candidate.toLowerCase());
    if (d <= limit && d < bestDistance) {
      best = candidate;
      bestDistance = d;
    }
  }
  return best;
}

/** Whether every issue is an unknown key (the input is otherwise valid). */
export function onlyUnknownKeys(issues: readonly z.core.$ZodIssue[]): boolean {
  return issues.length > 0 && issues.every((issue) => issue.code === 'unrecognized_keys');
}

/**
 * A copy of `input` without the unknown keys the issues name: how a workflow started before
 * inputs were strict reads its input again on replay, as it read it then.
 */
export function withoutUnknownKeys(input: unknown, issues: readonly z.core.$ZodIssue[]): unknown {
  const copy = JSON.parse(JSON.stringify(input)) as unknown;
  for (const issue of issues) {
    if (issue.code !== 'unrecognized_keys') continue;
    let target: unknown = copy;
    for (const step of issue.path)
      target = target !== null && typeof target === 'object' ? (target as Record<PropertyKey, unknown>)[step] : undefined;
    if (target === null || typeof target !== 'object') continue;
    for (const key of issue.keys) delete (target as Record<string, unknown>)[key];
  }
  return copy;
}
