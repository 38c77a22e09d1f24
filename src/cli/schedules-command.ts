import { Command } from 'commander';
import {
  type CalendarSpecDescription,
  type Client,
  ScheduleNotFoundError,
  type ScheduleOverlapPolicy,
  type ScheduleSpecDescription,
} from '@temporalio/client';
import { printResult } from './output';

type WithClient = <T>(work: (client: Client) => Promise<T>) => Promise<T>;

/** `keel schedules list|pause|resume|trigger|backfill`: the monitoring and retraining schedules. */
export function schedulesCommand(withClient: WithClient): Command {
  const command = new Command('schedules').description('list, pause, resume, trigger or backfill keel schedules');

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
  command
    .command('backfill <scheduleId>')
    .description(
      'run the schedule for every time it would have fired in [--from, --to): replay monitoring of past windows, or past retraining',
    )
    .requiredOption('--from <time>', 'start of the range, ISO 8601 (e.g. 2026-11-01T00:00:00Z)')
    .requiredOption('--to <time>', 'end of the range, ISO 8601')
    .option('--overlap <policy>', `what to do when runs overlap: ${overlapPolicies.join(', ')}`, 'buffer_all')
    .option('--json', 'machine-readable output')
    .action((scheduleId: string, opts: { from: string; to: string; overlap: string; json?: boolean }) =>
      withClient(async (client) => {
        const start = parseTime('--from', opts.from);
        const end = parseTime('--to', opts.to);
        if (start >= end) throw new Error(`--from (${start.toISOString()}) must be before --to (${end.toISOString()})`);
        const overlap = opts.overlap.toUpperCase();
        if (!overlapPolicies.includes(opts.overlap.toLowerCase()))
          throw new Error(`--overlap: unknown policy "${opts.overlap}" (one of ${overlapPolicies.join(', ')})`);
        const handle = client.schedule.getHandle(scheduleId);
        const description = await handle.describe().catch((error: unknown) => {
          if (error instanceof ScheduleNotFoundError) throw new Error(`no schedule "${scheduleId}" (keel schedules list shows them)`);
          throw error;
        });
        await handle.backfill({ start, end, overlap: overlap as ScheduleOverlapPolicy });
        const result = {
          scheduleId,
          action: 'backfill',
          from: start.toISOString(),
          to: end.toISOString(),
          overlap: opts.overlap.toLowerCase(),
          spec: describeSpec(description.spec),
          ok: true,
        };
        printResult(
          opts.json,
          result,
          () => `${scheduleId}: backfill of [${result.from}, ${result.to}) requested (${result.spec}, overlap ${result.overlap})`,
        );
      }),
    );
  return command;
}

const overlapPolicies = ['skip', 'buffer_one', 'buffer_all', 'cancel_other', 'terminate_other', 'allow_all'];

/** An ISO 8601 time, or an error naming the option and saying why. */
function parseTime(option: string, text: string): Date {
  if (!/^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?)?$/.test(text.trim())) {
    throw new Error(`${option}: "${text}" is not an ISO 8601 time (e.g. 2026-11-01T00:00:00Z)`);
  }
  const time = new Date(text.trim());
  if (Number.isNaN(time.getTime())) throw new Error(`${option}: "${text}" is not a valid time`);
  return time;
}

function describeSpec(spec: ScheduleSpecDescription): string {
  const parts: string[] = [];
  for (const interval of spec.intervals ?? []) parts.push(`every ${formatMs(interval.every)}`);
  // Temporal turns cron expressions into calendar specs; show their non-trivial fields.
  for (const calendar of spec.calendars ?? []) parts.push(`calendar ${describeCalendar(calendar)}`);
  if (spec.jitter) parts.push(`jitter ${formatMs(spec.jitter)}`);
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
      .map((r: { start: number | string; end?: number | string; step?: number }) =>
        r.end === undefined || r.end === r.start ? String(r.start) : `${r.start}-${r.end}${r.step && r.step > 1 ? `/${r.step}` : ''}`,
      )
      .join(',');
    return text === '*' || defaultRanges[field] === text ? [] : [`${field}=${text}`];
  });
  return fields.join(' ') || '(every minute)';
}

function formatMs(every: unknown): string {
  if (typeof every !== 'number') return String(every);
  for (const [unit, ms] of [
    ['d', 86_400_000],
    ['h', 3_600_000],
    ['m', 60_000],
    ['s', 1000],
  ] as const) {
    if (every % ms === 0) return `${every / ms}${unit}`;
  }
  return `${every}ms`;
}
