import { Command } from 'commander';
import { type CalendarSpecDescription, type Client, ScheduleNotFoundError, type ScheduleSpecDescription } from '@temporalio/client';
import { printResult } from './output';

type WithClient = <T>(work: (client: Client) => Promise<T>) => Promise<T>;

/** `keel schedules list|pause|resume|trigger`: the monitoring and retraining schedules. */
export function schedulesCommand(withClient: WithClient): Command {
  const command = new Command('schedules').description('list, pause, resume or trigger keel schedules');

  command
    .command('list')
    .description('list schedules with their state and next run')
    .option('--json', 'machine-readable output')
    .action((opts: { json?: boolean }) =>
      withClient(async (client) => {
        const rows: { id: string; workflow: string; paused: boolean; spec: string; nextRun: string | null; lastRun: string | null }[] = [];
        for await (const summary of client.schedule.list()) {
          const description = await client.schedule.getHandle(summary.scheduleId).describe();
          rows.push({
            id: summary.scheduleId,
            workflow: description.action.type === 'startWorkflow' ? description.action.workflowType : description.action.type,
            paused: description.state.paused,
            spec: describeSpec(description.spec),
            nextRun: description.info.nextActionTimes[0]?.toISOString() ?? null,
            lastRun: description.info.recentActions.at(-1)?.takenAt.toISOString() ?? null,
          });
        }
        rows.sort((a, b) => a.id.localeCompare(b.id));
        printResult(opts.json, rows, () =>
          rows.length
            ? rows.map((r) => `${r.id}  ${r.workflow}  ${r.paused ? 'PAUSED' : 'active'}  ${r.spec}  next ${r.nextRun ?? '-'}`).join('\n')
            : 'no schedules (npm start creates them)',
        );
      }),
    );

  for (const [name, description] of [
    ['pause', 'pause a schedule'],
    ['resume', 'resume a paused schedule'],
    ['trigger', 'start the scheduled workflow now'],
  ] as const) {
    command
      .command(`${name} <scheduleId>`)
      .description(description)
      .option('--note <text>', 'why (recorded on the schedule)')
      .option('--json', 'machine-readable output')
      .action((scheduleId: string, opts: { note?: string; json?: boolean }) =>
        withClient(async (client) => {
          const handle = client.schedule.getHandle(scheduleId);
          await handle.describe().catch((error: unknown) => {
            if (error instanceof ScheduleNotFoundError) {
              throw new Error(`no schedule "${scheduleId}" (keel schedules list shows them)`);
            }
            throw error;
          });
          if (name === 'pause') await handle.pause(opts.note ?? 'paused with keel schedules pause');
          else if (name === 'resume') await handle.unpause(opts.note ?? 'resumed with keel schedules resume');
          else await handle.trigger();
          printResult(opts.json, { scheduleId, action: name, ok: true }, () => `${scheduleId}: ${name} done`);
        }),
      );
  }
  return command;
}

function describeSpec(spec: ScheduleSpecDescription): string {
  const parts: string[] = [];
  for (const interval of spec.intervals ?? []) parts.push(`every ${formatMs(interval.every)}`);
  // Temporal turns cron expressions into calendar specs; show their non-trivial fields.
  for (const calendar of spec.calendars ?? []) parts.push(`calendar ${describeCalendar(calendar)}`);
  return parts.join(', ') || '(no spec)';
}

/** Ranges that mean "any", which Temporal spells out. */
const defaultRanges: Record<string, string> = {
  second: '0',
  dayOfMonth: '1-31',
  month: 'JANUARY-DECEMBER',
  dayOfWeek: 'SUNDAY-SATURDAY',
  year: '*',
};

function describeCalendar(calendar: CalendarSpecDescription): string {
  const fields = Object.entries(calendar).flatMap(([field, ranges]) => {
    if (!Array.isArray(ranges) || ranges.length === 0) return [];
    const text = ranges
      .map((r: { start: unknown; end?: unknown; step?: number }) =>
        r.end === undefined || r.end === r.start ? String(r.start) : `${r.start}-${r.end}${r.step && r.step > 1 ? `/${r.step}` : ''}`,
      )
      .join(',');
    return text === '*' || defaultRanges[field] === text ? [] : [`${field}=${text}`];
  });
  return fields.join(' ') || '(every minute)';
}

function formatMs(every: unknown): string {
  if (typeof every !== 'number') return String(every);
  for (const [unit, ms] of [['d', 86_400_000], ['h', 3_600_000], ['m', 60_000], ['s', 1000]] as const) {
    if (every % ms === 0) return `${every / ms}${unit}`;
  }
  return `${every}ms`;
}
