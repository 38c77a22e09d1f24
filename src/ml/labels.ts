import type { ModelTask } from '../shared/model-contract';
import { TargetError } from '../shared/errors';

/**
 * Target checks shared by every trainer. `what` names the column in errors (e.g.
 * `target "delayed"`), so a failed training run says which column, which row and which value.
 * Errors are TargetErrors: no retry can fix the data. A row number says what it counts: the
 * trainers see one split, so their messages name the row of that split (`split row 3`, 1-based);
 * checkTargetValues, run on a whole dataset version first, names the dataset row.
 */

/** How a message names the row at position i of the values checked. */
export type RowName = (index: number) => string;
const splitRow: RowName = (index) => `split row ${index + 1}`;
const datasetRow: RowName = (index) => `dataset row ${index + 1}`;

/**
 * Every value of a dataset version's target, in row order, as the task's trainer reads it:
 * 0 or 1, a finite number, or a class present. Errors name the dataset row (1-based, the
 * position in the accepted version), so a user can find it (`keel data rows`).
 */
export function checkTargetValues(values: ArrayLike<unknown>, task: ModelTask, what: string): void {
  if (task === 'binary') binaryValues(values, what, datasetRow);
  else if (task === 'regression') numericValues(values, what, datasetRow);
  else for (let i = 0; i < values.length; i++) requiredClass(values[i], what, datasetRow(i));
}

/** Checks binary labels (0 or 1) and returns them as a compact array. */
export function binaryLabels(values: ArrayLike<unknown>, what: string, rowName: RowName = splitRow): Uint8Array {
  const labels = binaryValues(values, what, rowName);
  if (labels.length === 0) throw new TargetError(`${what} has no rows to train on`);
  const positives = labels.reduce((sum, label) => sum + label, 0);
  if (positives === 0 || positives === labels.length) {
    throw new TargetError(`${what} is constant (every row is ${labels[0]}): a classifier needs examples of both classes`);
  }
  return labels;
}

/**
 * Each value 0 or 1, as binaryLabels checks them, but all may be equal: for rows a model is
 * only measured on (a validation split), where a metric needs no spread.
 */
export function binaryValues(values: ArrayLike<unknown>, what: string, rowName: RowName = splitRow): Uint8Array {
  const labels = new Uint8Array(values.length);
  for (let i = 0; i < values.length; i++) {
    const value = values[i];
    if (value !== 0 && value !== 1) {
      throw new TargetError(`${what} must be 0 or 1, but ${rowName(i)} has ${describe(value)}`);
    }
    labels[i] = value;
  }
  return labels;
}

/**
 * Checks a regression target: every value a finite number, or a numeric string (some drivers
 * return numeric columns as text), and not all equal. A missing value is an error rather than a
 * dropped row: which rows a model learns from is the dataset rules' decision, not the trainer's.
 */
export function regressionTargets(values: ArrayLike<unknown>, what: string, rowName: RowName = splitRow): Float64Array {
  if (values.length === 0) throw new TargetError(`${what} has no rows to train on`);
  const targets = numericValues(values, what, rowName);
  if (targets.every((target) => target === targets[0])) {
    throw new TargetError(`${what} is constant (every row is ${targets[0]}): there is nothing to learn`);
  }
  return targets;
}

/** Each value read as regressionTargets reads it, but all may be equal (see binaryValues). */
export function numericValues(values: ArrayLike<unknown>, what: string, rowName: RowName = splitRow): Float64Array {
  const targets = new Float64Array(values.length);
  for (let i = 0; i < values.length; i++) {
    const value = values[i];
    const number = typeof value === 'number' ? value : typeof value === 'string' && value.trim() !== '' ? Number(value) : Number.NaN;
    if (!Number.isFinite(number)) throw new TargetError(`${what} must be a finite number, but ${rowName(i)} has ${describe(value)}`);
    targets[i] = number;
  }
  return targets;
}

export interface ClassLabels {
  /** The distinct labels as strings; code i stands for classes[i]. */
  classes: string[];
  /** Per row, the index of its class in `classes`. */
  codes: Int32Array;
}

/**
 * Checks a multiclass target and codes it. Classes are the distinct values as strings (3 and "3"
 * are one class, as serving compares them), in a fixed order that does not depend on the row
 * order: numerically when every class reads as a number (so "2" comes before "10"), else by
 * UTF-16 code units (JavaScript's default sort). Null, undefined and '' are missing: an error.
 */
export function classLabels(values: ArrayLike<unknown>, what: string, rowName: RowName = splitRow): ClassLabels {
  if (values.length === 0) throw new TargetError(`${what} has no rows to train on`);
  const names = new Array<string>(values.length);
  const distinct = new Set<string>();
  for (let i = 0; i < values.length; i++) {
    const name = requiredClass(values[i], what, rowName(i));
    names[i] = name;
    distinct.add(name);
  }
  const classes = sortClasses([...distinct]);
  if (classes.length < 2) {
    throw new TargetError(`${what} is constant (every row is ${JSON.stringify(classes[0])}): a classifier needs at least two classes`);
  }
  return { classes, codes: codesOf(names, classes, what, rowName) };
}

/**
 * Codes labels with an existing class list (a validation split against the training classes). A
 * class outside the list is an error naming the row: the model has no output for it.
 */
export function codeWithClasses(
  values: ArrayLike<unknown>,
  classes: readonly string[],
  what: string,
  rowName: RowName = splitRow,
): Int32Array {
  const names = Array.from({ length: values.length }, (_, i) => requiredClass(values[i], what, rowName(i)));
  return codesOf(names, classes, what, rowName);
}

function codesOf(names: readonly string[], classes: readonly string[], what: string, rowName: RowName): Int32Array {
  const index = new Map(classes.map((name, code) => [name, code]));
  return Int32Array.from(names, (name, row) => {
    const code = index.get(name);
    if (code === undefined)
      throw new TargetError(`${what} has class ${JSON.stringify(name)} in ${rowName(row)}, which is not among the training classes`);
    return code;
  });
}

/** The class of a row, or a TargetError naming the row: every row needs a class. */
function requiredClass(value: unknown, what: string, row: string): string {
  const name = className(value);
  if (name === null) throw new TargetError(`${what} is missing in ${row} (${describe(value)}): every row needs a class`);
  return name;
}

/** A label as its class name, or null when missing (the rule of readCategory in row.ts). */
function className(value: unknown): string | null {
  if (value === null || value === undefined) return null;
  const name = String(value);
  return name === '' ? null : name;
}

function sortClasses(classes: string[]): string[] {
  const numeric = classes.every((name) => name.trim() !== '' && Number.isFinite(Number(name)));
  const byCodeUnits = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
  // "1" and "1.0" are distinct classes with one value: code units break the tie, so the order stays total.
  return numeric ? classes.sort((a, b) => Number(a) - Number(b) || byCodeUnits(a, b)) : classes.sort(byCodeUnits);
}

function describe(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (typeof value === 'number') return String(value);
  return JSON.stringify(value) ?? String(value);
}
