import { isAbsolute, join, resolve } from 'node:path';
import type { S3ArtifactStoreOptions } from './s3-artifact-store';

/** Where a keel process keeps its artifacts: a local directory, or an S3 bucket and prefix. */
export type ArtifactStoreSetting = { kind: 'local'; dir: string } | ({ kind: 's3' } & S3ArtifactStoreOptions);

/**
 * Reads the artifact store's setting from already validated environment values (see
 * src/runtime/environment.ts, which is the only reader of the environment):
 *
 * - `KEEL_ARTIFACT_STORE` unset: the local directory `<KEEL_DATA_DIR>/artifacts` (the default);
 *   a path: that local directory; `s3://bucket[/prefix]`: S3 or an S3-compatible store.
 * - For S3: `KEEL_S3_ENDPOINT`, `KEEL_S3_REGION` (else `AWS_REGION`, `AWS_DEFAULT_REGION`,
 *   `us-east-1`), `KEEL_S3_PATH_STYLE`; credentials come from the AWS SDK's chain.
 *
 * Every process of one deployment (workers, model servers, the CLI) must see the same store.
 */
export function artifactStoreSetting(values: {
  dataDir: string;
  store?: string;
  endpoint?: string;
  region?: string;
  pathStyle?: 'true' | 'false';
}): ArtifactStoreSetting {
  const setting = values.store?.trim();
  if (!setting) return { kind: 'local', dir: join(values.dataDir, 'artifacts') };
  if (!setting.startsWith('s3://')) {
    if (/^[a-z][a-z0-9+.-]*:\/\//i.test(setting)) {
      throw new Error(`KEEL_ARTIFACT_STORE: unsupported scheme in "${setting}" (use a directory path or s3://bucket/prefix)`);
    }
    return { kind: 'local', dir: isAbsolute(setting) ? setting : resolve(setting) };
  }
  const [bucket = '', ...rest] = setting.slice('s3://'.length).split('/');
  const prefix = rest.filter(Boolean).join('/');
  if (prefix.split('/').some((part) => part === '..' || part === '.')) {
    throw new Error(`KEEL_ARTIFACT_STORE: the prefix of "${setting}" must not contain "." or ".." segments`);
  }
  return {
    kind: 's3',
    bucket,
    prefix,
    region: values.region ?? 'us-east-1',
    endpoint: values.endpoint,
    forcePathStyle: values.pathStyle === undefined ? undefined : values.pathStyle === 'true',
  };
}
