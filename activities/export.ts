import { contractOf, exportOnnx, type TrainedModel } from '../src/ml/trained-model';
import type { ActivityDeps } from './deps';

export function exportActivities({ artifacts }: ActivityDeps) {
  return {
    /** Builds the ONNX graph (feature pipeline + model) and stores it, content-addressed. */
    async exportModel(input: { modelArtifactSha256: string }) {
      const model = await artifacts.getJson<TrainedModel>(input.modelArtifactSha256);
      const bytes = exportOnnx(model);
      const onnxSha256 = await artifacts.put(bytes);
      return { onnxSha256, bytes: bytes.byteLength, contract: contractOf(model) };
    },
  };
}
