/**
 * The drift check's configuration. The schema lives in src/shared/monitoring.ts (workflows import
 * only src/shared, and the monitor workflow validates it as part of its input); re-exported here
 * for the statistics code.
 */
export {
  columnDriftOverrideSchema,
  defaultDriftThresholds,
  driftConfigSchema,
  driftMethods,
  driftMethodSchema,
  pValueMethods,
  type ColumnDriftOverride,
  type DriftConfig,
  type DriftConfigInput,
  type DriftMethod,
} from '../shared/monitoring';
