import { isAbsolute, join, resolve } from 'node:path';
import { type ArtifactStore, LocalArtifactStore } from './artifact-store';
import { S3ArtifactStore } from './s3-artifact-store';

/**
 * Which artifact store a keel process uses, from the environment:
 *
 * - `KEEL_ARTIFACT_STORE` unset: the local directory `<KEEL_DATA_DIR>/artifacts` (the default);
 *   a path: that local directory; `s3://bucket[/prefix]`: S3 or an S3-compatible store.
 * - For S3: `KEEL_S3_ENDPOINT` (an S3-compatible endpoint such as `http://127.0.0.1:9000`; unset:
 *   AWS), `KEEL_S3_REGION` (else `AWS_REGION`, `AWS_DEFAULT_REGION`, `us-east-1`),
 *   `KEEL_S3_PATH_STYLE` (`true`/`false`; default true with an endpoint), and the credentials in
 *   `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`, optionally `AWS_SESSION_TOKEN`.
 *
 * Every process of one deployment (workers, model servers, the CLI) must see the same store.
 */
export function openArtifactStore(options: { dataDir: string; env?: NodeJS.ProcessEnv }): ArtifactStore {
  const env = options.env ?? process.env;
  const setting = env.KEEL_ARTIFACT_STORE?.trim();
  if (!setting) return new LocalArtifactStore(join(options.dataDir, 'artifacts'));
  if (!setting.startsWith('s3://')) {
    if (/^[a-z][a-z0-9+.-]*:\/\//i.test(setting)) {
      throw new Error(`KEEL_ARTIFACT_STORE: unsupported scheme in "${setting}" (use a directory path or s3://bucket/prefix)`);
    }
    return new LocalArtifactStore(isAbsolute(setting) ? setting : resolve(setting));
  }
  const [bucket = '', ...rest] = setting.slice('s3://'.length).split('/');
  const prefix = rest.filter(Boolean).join('/');
  if (prefix.split('/').some((part) => part === '..' || part === '.')) {
    throw new Error(`KEEL_ARTIFACT_STORE: the prefix of "${setting}" must not contain "." or ".." segments`);
  }
  const accessKeyId = env.AWS_ACCESS_KEY_ID;
  const secretAccessKey = env.AWS_SECRET_ACCESS_KEY;
  if (!accessKeyId || !secretAccessKey) {
    throw new Error(`KEEL_ARTIFACT_STORE=${setting} needs AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY`);
  }
  const pathStyle = env.KEEL_S3_PATH_STYLE;
  if (pathStyle !== undefined && pathStyle !== '' && pathStyle !== 'true' && pathStyle !== 'false') {
    throw new Error(`KEEL_S3_PATH_STYLE must be true or false, got "${pathStyle}"`);
  }
  return new S3ArtifactStore({
    bucket,
    prefix,
    region: env.KEEL_S3_REGION || env.AWS_REGION || env.AWS_DEFAULT_REGION || 'us-east-1',
    endpoint: env.KEEL_S3_ENDPOINT || undefined,
    forcePathStyle: pathStyle ? pathStyle === 'true' : undefined,
    credentials: { accessKeyId, secretAccessKey, sessionToken: env.AWS_SESSION_TOKEN || undefined },
  });
}
