export { canaryRollout } from './canary-rollout';
export { monitor } from './monitor';
export { trainingPipeline } from './training-pipeline';
export { batchScore } from './batch-score';
export { materializeFeatures } from './materialize-features';
