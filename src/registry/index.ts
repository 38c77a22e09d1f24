/**
 * The model registry's programmatic API (see docs/registry.md): the same functions the pipeline's
 * activities, the model server and `keel models` use.
 */
export * from './artifact-config';
export * from './artifact-store';
export * from './import-onnx';
export * from './lineage';
export * from './model-registry';
export * from './names';
export * from './open';
export * from './reproduce';
export * from './retention';
export * from './s3-artifact-store';
