import type { LogisticModel } from '../src/ml/model';
import { modelContract } from '../src/ml/model';
import { exportLogisticOnnx } from '../src/ml/onnx/export-logistic';
import type { ActivityDeps } from './deps';

export function exportActivities({ artifacts }: ActivityDeps) {
  return {
    /** Builds the ONNX graph (feature pipeline + model) and stores it, content-addressed. */
    async exportModel(input: { modelArtifactSha256: string }) {
      const model = await artifacts.getJson<LogisticModel>(input.modelArtifactSha256);
      const bytes = exportLogisticOnnx(model);
      const onnxSha256 = await artifacts.put(bytes);
      return { onnxSha256, bytes: bytes.byteLength, contract: modelContract(model) };
    },
  };
}
