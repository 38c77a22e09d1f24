import { createHash, createHmac } from 'node:crypto';
import {
  ArtifactMissingError,
  type ArtifactStore,
  assertSha256,
  sha256Hex,
  type StoredArtifact,
  verified,
} from './artifact-store';

export interface S3Credentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
}

export interface S3ArtifactStoreOptions {
  bucket: string;
  /** Key prefix inside the bucket, without leading or trailing slash ('' for none). */
  prefix: string;
  region: string;
  /** An S3-compatible endpoint (`http://127.0.0.1:9000`); default AWS's regional endpoint. */
  endpoint?: string;
  /** `https://endpoint/bucket/key` instead of `https://bucket.endpoint/key`; default: when an endpoint is given. */
  forcePathStyle?: boolean;
  credentials: S3Credentials;
}

/**
 * Blobs in S3 or an S3-compatible object store (MinIO, Ceph, R2, ...), laid out like the local
 * store: `<prefix>/sha256/<2 hex>/<62 hex>`. Plain HTTP with AWS Signature V4 (PUT, GET, HEAD,
 * DELETE, ListObjectsV2), so no SDK dependency; every read is verified against its sha256.
 * An object is written whole by a single PUT, so no reader sees a partial blob.
 */
export class S3ArtifactStore implements ArtifactStore {
  private readonly base: string;
  private readonly host: string;
  /** The path of the bucket on `base`: `/bucket` (path style) or '' (virtual-hosted style). */
  private readonly bucketPath: string;

  constructor(private readonly options: S3ArtifactStoreOptions) {
    if (!/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(options.bucket)) {
      throw new Error(`invalid S3 bucket name "${options.bucket}"`);
    }
    const pathStyle = options.forcePathStyle ?? options.endpoint !== undefined;
    const endpoint = new URL(options.endpoint ?? `https://s3.${options.region}.amazonaws.com`);
    if (!pathStyle) endpoint.hostname = `${options.bucket}.${endpoint.hostname}`;
    this.base = `${endpoint.protocol}//${endpoint.host}`;
    this.host = endpoint.host;
    this.bucketPath = pathStyle ? `/${encodeRfc3986(options.bucket)}` : '';
  }

  get location(): string {
    return `s3://${this.options.bucket}${this.options.prefix ? `/${this.options.prefix}` : ''}`;
  }

  pathOf(sha: string): string {
    return `s3://${this.options.bucket}/${this.keyOf(sha)}`;
  }

  async put(bytes: Uint8Array): Promise<string> {
    const sha = sha256Hex(bytes);
    // Always written, even when present: it heals a corrupted copy and refreshes LastModified,
    // which garbage collection's grace period reads.
    const response = await this.request('PUT', this.objectPath(sha), {}, bytes, sha);
    await expectOk(response, `storing artifact ${sha} at ${this.pathOf(sha)}`);
    return sha;
  }

  async get(sha: string): Promise<Uint8Array> {
    assertSha256(sha);
    const response = await this.request('GET', this.objectPath(sha));
    if (response.status === 404) {
      await response.body?.cancel();
      throw new ArtifactMissingError(`artifact ${sha} is not in the store ${this.location} (never stored, or garbage-collected)`);
    }
    await expectOk(response, `reading artifact ${sha} from ${this.pathOf(sha)}`, false);
    return verified(sha, new Uint8Array(await response.arrayBuffer()));
  }

  async putJson(value: unknown): Promise<string> {
    return this.put(new TextEncoder().encode(JSON.stringify(value)));
  }

  async getJson<T>(sha: string): Promise<T> {
    return JSON.parse(new TextDecoder().decode(await this.get(sha))) as T;
  }

  async has(sha: string): Promise<boolean> {
    assertSha256(sha);
    const response = await this.request('HEAD', this.objectPath(sha));
    if (response.status === 404) return false;
    await expectOk(response, `looking up artifact ${sha}`);
    return true;
  }

  async delete(sha: string): Promise<void> {
    assertSha256(sha);
    const response = await this.request('DELETE', this.objectPath(sha));
    if (response.status === 404) return;
    await expectOk(response, `deleting artifact ${sha}`);
  }

  async *list(): AsyncIterable<StoredArtifact> {
    const prefix = this.keyPrefix();
    let token: string | undefined;
    do {
      const query: Record<string, string> = { 'list-type': '2', prefix };
      if (token) query['continuation-token'] = token;
      const response = await this.request('GET', this.bucketPath || '/', query);
      await expectOk(response, `listing ${this.location}`, false);
      const xml = await response.text();
      for (const match of xml.matchAll(/<Contents>([\s\S]*?)<\/Contents>/g)) {
        const key = xmlText(match[1], 'Key');
        const sha = key?.startsWith(prefix) ? key.slice(prefix.length).replace('/', '') : undefined;
        if (!sha || !/^[0-9a-f]{64}$/.test(sha)) continue;
        yield {
          sha256: sha,
          bytes: Number(xmlText(match[1], 'Size') ?? 0),
          modifiedAt: new Date(xmlText(match[1], 'LastModified') ?? 0),
        };
      }
      token = xmlText(xml, 'IsTruncated') === 'true' ? xmlText(xml, 'NextContinuationToken') : undefined;
    } while (token);
  }

  private keyPrefix(): string {
    return `${this.options.prefix ? `${this.options.prefix}/` : ''}sha256/`;
  }

  private keyOf(sha: string): string {
    return `${this.keyPrefix()}${sha.slice(0, 2)}/${sha.slice(2)}`;
  }

  private objectPath(sha: string): string {
    return `${this.bucketPath}/${this.keyOf(sha).split('/').map(encodeRfc3986).join('/')}`;
  }

  private async request(
    method: 'GET' | 'PUT' | 'HEAD' | 'DELETE',
    path: string,
    query: Record<string, string> = {},
    body?: Uint8Array,
    bodySha?: string,
  ): Promise<Response> {
    const canonicalQuery = Object.keys(query)
      .sort()
      .map((k) => `${encodeRfc3986(k)}=${encodeRfc3986(query[k])}`)
      .join('&');
    const payloadHash = bodySha ?? sha256Hex(body ?? new Uint8Array());
    const headers = signV4({
      method,
      path,
      canonicalQuery,
      host: this.host,
      payloadHash,
      region: this.options.region,
      credentials: this.options.credentials,
      now: new Date(),
    });
    const url = `${this.base}${path}${canonicalQuery ? `?${canonicalQuery}` : ''}`;
    try {
      return await fetch(url, { method, headers, body: body as RequestInit['body'] });
    } catch (error) {
      throw new Error(`cannot reach the artifact store at ${this.base}: ${(error as Error).message}`);
    }
  }
}

/** Signs a request with AWS Signature Version 4; returns the headers to send (host is implied). */
export function signV4(request: {
  method: string;
  /** Already URI-encoded, as sent. */
  path: string;
  canonicalQuery: string;
  host: string;
  payloadHash: string;
  region: string;
  service?: string;
  credentials: S3Credentials;
  now: Date;
  /** Further headers to sign and send (lower-case names). */
  extraSignedHeaders?: Record<string, string>;
}): Record<string, string> {
  const service = request.service ?? 's3';
  const amzDate = request.now.toISOString().replace(/[:-]|\.\d{3}/g, '');
  const day = amzDate.slice(0, 8);
  const signed: Record<string, string> = {
    ...request.extraSignedHeaders,
    host: request.host,
    'x-amz-content-sha256': request.payloadHash,
    'x-amz-date': amzDate,
  };
  if (request.credentials.sessionToken) signed['x-amz-security-token'] = request.credentials.sessionToken;
  const names = Object.keys(signed).sort();
  const canonicalRequest = [
    request.method,
    request.path || '/',
    request.canonicalQuery,
    names.map((n) => `${n}:${signed[n].trim()}\n`).join(''),
    names.join(';'),
    request.payloadHash,
  ].join('\n');
  const scope = `${day}/${request.region}/${service}/aws4_request`;
  const stringToSign = ['AWS4-HMAC-SHA256', amzDate, scope, createHash('sha256').update(canonicalRequest).digest('hex')].join('\n');
  let key: Buffer = hmac(`AWS4${request.credentials.secretAccessKey}`, day);
  for (const part of [request.region, service, 'aws4_request']) key = hmac(key, part);
  const signature = createHmac('sha256', key).update(stringToSign).digest('hex');
  const { host: _host, ...headers } = signed;
  return {
    ...headers,
    authorization: `AWS4-HMAC-SHA256 Credential=${request.credentials.accessKeyId}/${scope}, SignedHeaders=${names.join(';')}, Signature=${signature}`,
  };
}

function hmac(key: string | Buffer, data: string): Buffer {
  return createHmac('sha256', key).update(data).digest();
}

/** RFC 3986 unreserved characters stay; everything else is %-encoded (what SigV4 expects). */
function encodeRfc3986(value: string): string {
  return encodeURIComponent(value).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

function xmlText(xml: string, tag: string): string | undefined {
  const match = new RegExp(`<${tag}>([\\s\\S]*?)</${tag}>`).exec(xml);
  return match?.[1]
    .replaceAll('&lt;', '<')
    .replaceAll('&gt;', '>')
    .replaceAll('&quot;', '"')
    .replaceAll('&apos;', "'")
    .replaceAll('&amp;', '&');
}

async function expectOk(response: Response, what: string, consume = true): Promise<void> {
  if (response.ok) {
    if (consume) await response.body?.cancel();
    return;
  }
  const text = await response.text().catch(() => '');
  const code = xmlText(text, 'Code');
  const message = xmlText(text, 'Message');
  throw new Error(`${what} failed: HTTP ${response.status}${code ? ` ${code}` : ''}${message ? `: ${message}` : ''}`);
}
