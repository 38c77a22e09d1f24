import { readFile } from 'node:fs/promises';
import { Worker } from '@temporalio/worker';
import { expect, inject } from 'vitest';

/** A history as `temporal workflow show --output json` writes it (the fields the replay tests read). */
export interface HistoryJson {
  events: {
    eventType: string;
    workflowExecutionStartedEventAttributes?: {
      workflowType?: { name?: string };
      originalExecutionRunId?: string;
      continuedExecutionRunId?: string;
      input?: { payloads?: unknown[] };
    };
    workflowExecutionContinuedAsNewEventAttributes?: { newExecutionRunId?: string };
  }[];
}

export async function loadHistory(name: string): Promise<HistoryJson> {
  return JSON.parse(await readFile(`test/replay/histories/${name}`, 'utf8')) as HistoryJson;
}

/**
 * The fixtures are what their names claim: `first` ran `workflowType` and ended by continuing as
 * new into `next`, which started from it. Guards against a refresh that captured the wrong runs.
 */
export function expectContinuedAsNew(workflowType: string, first: HistoryJson, next: HistoryJson): void {
  const firstStart = first.events[0].workflowExecutionStartedEventAttributes;
  const nextStart = next.events[0].workflowExecutionStartedEventAttributes;
  expect(firstStart?.workflowType?.name).toBe(workflowType);
  expect(nextStart?.workflowType?.name).toBe(workflowType);
  expect(first.events.at(-1)?.eventType).toBe('EVENT_TYPE_WORKFLOW_EXECUTION_CONTINUED_AS_NEW');
  const nextRunId = first.events.at(-1)?.workflowExecutionContinuedAsNewEventAttributes?.newExecutionRunId;
  expect(nextRunId).toBeTruthy();
  expect(nextStart?.originalExecutionRunId).toBe(nextRunId);
  expect(nextStart?.continuedExecutionRunId).toBe(firstStart?.originalExecutionRunId);
}

/** Replays a history with today's workflow bundle; rejects with a DeterminismViolationError when the commands differ. */
export async function replay(history: HistoryJson): Promise<void> {
  await Worker.runReplayHistory({ workflowBundle: { codePath: inject('workflowBundlePath') } }, history);
}

export function eventTypes(history: HistoryJson): string[] {
  return history.events.map((e) => e.eventType.replace(/^EVENT_TYPE_/, ''));
}
