/**
 * Checks binary labels and returns them as a compact array. `what` names the labels in errors
 * (e.g. `target "delayed"`), so a failed training run says which column is wrong.
 */
export function binaryLabels(values: ArrayLike<unknown>, what: string): Uint8Array {
  const labels = new Uint8Array(values.length);
  let positives = 0;
  for (let i = 0; i < values.length; i++) {
    const value = values[i];
    if (value !== 0 && value !== 1) {
      throw new Error(`${what} must be 0 or 1, but row ${i} has ${JSON.stringify(value) ?? String(value)}`);
    }
    labels[i] = value;
    positives += value;
  }
  if (labels.length === 0) throw new Error(`${what} has no rows to train on`);
  if (positives === 0 || positives === labels.length) {
    throw new Error(`${what} is constant (every row is ${labels[0]}): a classifier needs examples of both classes`);
  }
  return labels;
}
