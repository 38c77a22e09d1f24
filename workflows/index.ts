export { canaryRollout } from './canary-rollout';
export { monitor } from './monitor';
export { trainingPipeline } from './training-pipeline';
export { materializeFeatures } from './materialize-features';
