import type { LoadedModel } from '../model-pool';
import type { BoundRequest } from '../oip';
import { type Instance, instancesToColumns, parseInstances, RequestError } from '../predict';
import type { RequestLimits } from '../request-limits';
import { suggestKey } from '../../shared/strict';

/** The v1 protocol's request body and answer (`POST /v1/models/{name}:predict`): on every prediction's path. */

export function parseV1Body(body: unknown): unknown {
  if (typeof body !== 'object' || body === null || Array.isArray(body))
    throw new RequestError(400, 'the body must be {"instances": [{...feature values...}, ...]}');
  for (const key in body) {
    if (key !== 'instances')
      throw new RequestError(
        400,
        `unknown field "${key}"${suggestKey(key, ['instances']) ? ' (did you mean instances?)' : ''}: the body must be {"instances": [{...feature values...}, ...]}`,
      );
  }
  return (body as { instances?: unknown }).instances;
}

export function bindInstances(model: LoadedModel, value: unknown, limits: RequestLimits): BoundRequest {
  const instances: Instance[] = parseInstances(model.contract, value, limits);
  return { rows: instances.length, feeds: instancesToColumns(model.contract, instances), instances };
}

/** The v1 answer, written directly: it is on every request's path, and JSON.stringify of objects costs more. */
export function v1Response(model: LoadedModel, ids: string[], fields: string[]): string {
  let text = `{"model":${JSON.stringify(model.name)},"version":${model.version},"predictions":[`;
  for (let i = 0; i < ids.length; i++) text += `${i === 0 ? '' : ','}{"id":"${ids[i]}",${fields[i]}}`;
  return `${text}]}`;
}
