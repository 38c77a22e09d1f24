export { monitor } from './monitor';
export { trainingPipeline } from './training-pipeline';
