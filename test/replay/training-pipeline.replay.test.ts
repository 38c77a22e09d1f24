import { describe, expect, it } from 'vitest';
import { loadHistory, replay } from './history-fixture';
import { parseJson } from '../fixtures/json';

/** The fields of a history event these checks read. */
interface RecordedEvent {
  markerRecordedEventAttributes?: { markerName?: string; details?: Record<string, { payloads: { data: string }[] }> };
  activityTaskScheduledEventAttributes?: { activityType?: { name?: string } };
}

/**
 * Determinism: today's workflow code must replay histories recorded from real pipeline runs. A
 * change that would break running workflows fails here. `training-pipeline.json` was recorded
 * before runs recorded themselves (no patch marker: replays without the record activities);
 * `training-pipeline-recorded.json` after (`patched('record-pipeline-runs')`). After a deliberate,
 * versioned change, refresh the newer fixture with:
 *   KEEL_CAPTURE_HISTORY=test/replay/histories/training-pipeline-recorded.json npx vitest run test/integration/training-pipeline.test.ts
 */
describe('trainingPipeline replay', () => {
  it('replays a history from before the run record existed', async () => {
    await replay(await loadHistory('training-pipeline.json'));
  });

  it('replays a history that records the run', async () => {
    const history = await loadHistory('training-pipeline-recorded.json');
    // The fixture is what its name says: the patch marker and the record activities are in it.
    const events = history.events as RecordedEvent[];
    const patches = events
      .filter((e) => e.markerRecordedEventAttributes?.markerName === 'core_patch')
      .map(
        (e) =>
          parseJson<{ id: string }>(
            Buffer.from(e.markerRecordedEventAttributes!.details!['patch-data'].payloads[0].data, 'base64').toString(),
          ).id,
      );
    expect(patches).toEqual(['record-pipeline-runs']);
    const activities = events.map((e) => e.activityTaskScheduledEventAttributes?.activityType?.name).filter(Boolean);
    expect(activities.filter((name) => name === 'recordPipelineRun').length).toBeGreaterThan(5);
    await replay(history);
  });
});
