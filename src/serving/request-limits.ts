/**
 * What one request may carry and how long it may take to arrive (docs/serving.md, "Request
 * limits"): every limit is named in the 400 that enforces it.
 */
export interface RequestLimits {
  /**
   * Longest string a categorical feature takes, in characters (UTF-16 code units, as
   * `String.length` counts them); default 1024 (KEEL_MAX_CATEGORY_LENGTH). A longer one is refused
   * rather than scored and stored: no category of a trained model is that long.
   */
  maxCategoryLength: number;
  /** Per-feature overrides of `maxCategoryLength`, by feature name (KEEL_MAX_CATEGORY_LENGTHS). */
  categoryLengths: Readonly<Record<string, number>>;
  /** The request line and headers must arrive within this many ms (KEEL_HEADERS_TIMEOUT_S; default 10 s). */
  headersTimeoutMs: number;
  /** The whole request, body included, must arrive within this many ms (KEEL_REQUEST_TIMEOUT_S; default 15 s). */
  requestTimeoutMs: number;
}

export const DEFAULT_REQUEST_LIMITS: RequestLimits = {
  maxCategoryLength: 1024,
  categoryLengths: {},
  headersTimeoutMs: 10_000,
  requestTimeoutMs: 15_000,
};

/** The longest string `feature` takes. */
export function categoryLengthLimit(limits: Pick<RequestLimits, 'maxCategoryLength' | 'categoryLengths'>, feature: string): number {
  return limits.categoryLengths[feature] ?? limits.maxCategoryLength;
}

// PostgreSQL text and jsonb hold neither NUL nor an unpaired UTF-16 surrogate (which is not
// Unicode text at all); the prediction log stores inputs exactly as received, so a string that
// holds one is refused instead of being stored as something else (U+FFFD).
const UNSTORABLE = /\u0000|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** Why a categorical string value is refused, or undefined. Cheap on the valid path: a length check and one regular-expression test. */
export function categoryStringProblem(value: string, maxLength: number): string | undefined {
  if (value.length > maxLength)
    return `is ${value.length} characters long, over the limit of ${maxLength} for a categorical value (KEEL_MAX_CATEGORY_LENGTH)`;
  const unstorable = UNSTORABLE.exec(value);
  if (!unstorable) return undefined;
  const at = `at character ${unstorable.index}`;
  return unstorable[0] === '\u0000'
    ? `contains a NUL character (\\u0000) ${at}, which the prediction log cannot store`
    : `contains an unpaired UTF-16 surrogate (\\u${unstorable[0].charCodeAt(0).toString(16)}) ${at}: not Unicode text, which the prediction log cannot store`;
}
