import type { ArtifactStoreSetting } from './artifact-setting';
import { type ArtifactStore, LocalArtifactStore } from './artifact-store';
import { S3ArtifactStore } from './s3-artifact-store';

/** The artifact store a setting names (see artifact-setting.ts). */
export function openArtifactStore(setting: ArtifactStoreSetting): ArtifactStore {
  if (setting.kind === 'local') return new LocalArtifactStore(setting.dir);
  const { kind: _kind, ...options } = setting;
  return new S3ArtifactStore(options);
}
