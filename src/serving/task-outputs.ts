import type { InferenceOutputs } from './inference-protocol';
import type { ModelContract } from '../shared/model-contract';
import { jsonbSafeText } from './log-line';

/**
 * How a model's outputs read per row, by task — the v1 answer and the prediction log's `outputs`:
 *
 * | task       | v1 prediction                                            | prediction_log.outputs                      |
 * |------------|----------------------------------------------------------|---------------------------------------------|
 * | binary     | `{"id", "probability": p, "label": 0/1}`                  | `{"probability": p, "label": 0/1}`          |
 * | regression | `{"id", "prediction": y}`                                 | `{"prediction": y}`                         |
 * | multiclass | `{"id", "label": "<class>", "probabilities": {"<class>": p, ...}}` | `{"label": "<class>", "probabilities": [p, ...]}` (classes order) |
 *
 * Both are written as text directly: they are on every prediction's path, and building objects
 * for JSON.stringify costs more than the rest of the row's bookkeeping.
 */
export interface TaskFormat {
  /** The fields of row i's v1 prediction after its `"id"`, comma-separated, without braces. */
  v1(outputs: InferenceOutputs, i: number): string;
  /**
   * The prediction log's JSON text for row i; `v1` is what v1() returned for the row, if known:
   * for binary and regression models the log holds the same fields, so the numbers are not
   * formatted twice.
   */
  log(outputs: InferenceOutputs, i: number, v1?: string): string;
}

const formats = new WeakMap<ModelContract, TaskFormat>();

/** The formatter of a contract's task (made once per loaded contract). */
export function taskFormat(contract: ModelContract): TaskFormat {
  let format = formats.get(contract);
  if (!format) formats.set(contract, (format = makeFormat(contract)));
  return format;
}

function makeFormat(contract: ModelContract): TaskFormat {
  switch (contract.task) {
    case 'binary':
      return {
        v1: (o, i) => `"probability":${jsonNumber(o.probability[i] as number)},"label":${o.label[i]}`,
        log: (o, i, v1) => `{${v1 ?? `"probability":${jsonNumber(o.probability[i] as number)},"label":${o.label[i]}`}}`,
      };
    case 'regression':
      return {
        v1: (o, i) => `"prediction":${jsonNumber(o.prediction[i] as number)}`,
        log: (o, i, v1) => `{${v1 ?? `"prediction":${jsonNumber(o.prediction[i] as number)}`}}`,
      };
    case 'multiclass': {
      const classes = contract.classes!;
      const k = classes.length;
      const names = classes.map((c) => JSON.stringify(c));
      const keys = names.map((n) => `${n}:`);
      // jsonb refuses \u0000 and lone surrogates, and one such row would fail its whole COPY batch.
      const logNames = classes.map((c) => JSON.stringify(jsonbSafeText(c)));
      return {
        v1: (o, i) => {
          const p = o.probabilities as Float32Array;
          let text = `"label":${names[Number(o.label[i])] ?? 'null'},"probabilities":{`;
          for (let c = 0; c < k; c++) text += `${c === 0 ? '' : ','}${keys[c]}${jsonNumber(p[i * k + c])}`;
          return `${text}}`;
        },
        log: (o, i) => {
          const p = o.probabilities as Float32Array;
          let text = `{"label":${logNames[Number(o.label[i])] ?? 'null'},"probabilities":[`;
          for (let c = 0; c < k; c++) text += `${c === 0 ? '' : ','}${jsonNumber(p[i * k + c])}`;
          return `${text}]}`;
        },
      };
    }
  }
}

function jsonNumber(value: number): string {
  return Number.isFinite(value) ? String(value) : 'null';
}
