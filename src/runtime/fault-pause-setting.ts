import { join } from 'node:path';

/**
 * The setting of the test-only activity holds (KEEL_FAULT_PAUSES, src/runtime/fault-pauses.ts):
 * which activity of which workflow holds, and the marker file it writes when it does. Apart from
 * the hold itself so that reading the environment does not load the Temporal activity SDK.
 */
export interface FaultPause {
  activityType: string;
  workflowId: string;
}

/** `activityType@workflowId`, comma-separated, e.g. `validateDataset@train/churn,registerModel@train/churn`. */
export const faultPausesPattern = /^[A-Za-z]\w*@[^,@\s]+(,[A-Za-z]\w*@[^,@\s]+)*$/;

export function parseFaultPauses(value: string): FaultPause[] {
  return value.split(',').map((entry) => {
    const [activityType, workflowId] = entry.split('@');
    return { activityType, workflowId };
  });
}

/** The marker file a held activity writes: `<dir>/<activityType>@<workflowId, URI-encoded>`. */
export function faultPauseMarker(dir: string, pause: FaultPause): string {
  return join(dir, `${pause.activityType}@${encodeURIComponent(pause.workflowId)}`);
}
