import { base, type ChartSpec } from './spec';

/** An alias move as stored in alias_history. */
export interface AliasMoveInput {
  alias: string;
  toVersion: number | null;
  action: string;
  actor: string;
  reason: string;
  at: Date | string;
}

export interface AliasInterval {
  alias: string;
  version: string;
  from: string;
  to: string;
  action: string;
  actor: string;
  reason: string;
}

/** Each alias's moves as intervals "this version from … to …", the last one open until `now`. */
export function aliasIntervals(moves: readonly AliasMoveInput[], now: Date): AliasInterval[] {
  const byAlias = new Map<string, AliasMoveInput[]>();
  for (const move of moves) byAlias.set(move.alias, [...(byAlias.get(move.alias) ?? []), move]);
  const intervals: AliasInterval[] = [];
  for (const [alias, list] of byAlias) {
    const sorted = [...list].sort((a, b) => new Date(a.at).getTime() - new Date(b.at).getTime());
    sorted.forEach((move, i) => {
      if (move.toVersion === null) return;
      const end = sorted[i + 1]?.at ?? now;
      intervals.push({
        alias,
        version: `v${move.toVersion}`,
        from: new Date(move.at).toISOString(),
        to: new Date(end).toISOString(),
        action: move.action,
        actor: move.actor,
        reason: move.reason,
      });
    });
  }
  return intervals;
}

/** What served at T: one row per alias, a bar per version it pointed to, labelled. */
export function aliasTimelineSpec(intervals: AliasInterval[]): ChartSpec {
  const aliases = [...new Set(intervals.map((i) => i.alias))];
  return {
    ...base('Alias history: which version each alias pointed to, when', { width: 620, height: Math.max(50, 44 * aliases.length) }),
    data: { name: 'alias_history', values: intervals },
    encoding: {
      y: { field: 'alias', type: 'nominal', title: null, sort: aliases },
      x: { field: 'from', type: 'temporal', title: null },
    },
    layer: [
      {
        mark: { type: 'bar', cornerRadius: 3, stroke: 'white', strokeWidth: 1 },
        encoding: {
          x2: { field: 'to' },
          color: { field: 'version', type: 'nominal', title: 'version' },
          tooltip: [
            { field: 'alias', type: 'nominal' },
            { field: 'version', type: 'nominal' },
            { field: 'from', type: 'temporal', format: '%Y-%m-%d %H:%M:%S' },
            { field: 'to', type: 'temporal', format: '%Y-%m-%d %H:%M:%S' },
            { field: 'action', type: 'nominal' },
            { field: 'actor', type: 'nominal' },
            { field: 'reason', type: 'nominal' },
          ],
        },
      },
      {
        mark: { type: 'text', align: 'left', dx: 4, color: 'white', fontWeight: 'bold' },
        encoding: { text: { field: 'version', type: 'nominal' } },
      },
    ],
  };
}
