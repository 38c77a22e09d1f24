import type { ServerResponse } from 'node:http';
import { RequestError } from '../predict';
import type { Reply } from './context';
import { MethodNotAllowedError } from './router';

export const JSON_TYPE = 'application/json; charset=utf-8';

export function errorReply(error: unknown): Reply {
  if (error instanceof MethodNotAllowedError) {
    return { status: 405, body: { error: error.message }, headers: { allow: error.allow } };
  }
  if (error instanceof RequestError) {
    const headers: Record<string, string> = {};
    if (error.status === 401) headers['www-authenticate'] = 'Bearer';
    if (error.status === 503) headers['retry-after'] = '1';
    return { status: error.status, body: { error: error.message }, headers };
  }
  return { status: 500, body: { error: 'internal error; see the server log' } };
}

export function send(res: ServerResponse, reply: Reply, head: boolean): void {
  const contentType = reply.raw?.contentType ?? JSON_TYPE;
  const payload = reply.raw?.text ?? JSON.stringify(reply.body);
  const headers: Record<string, string | number> = { 'content-type': contentType, 'content-length': Buffer.byteLength(payload) };
  if (reply.headers) Object.assign(headers, reply.headers);
  res.writeHead(reply.status, headers);
  res.end(head ? undefined : payload);
}
