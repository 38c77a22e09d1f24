import { appendFile, readFile } from 'node:fs/promises';

/** What one fault test found: the figures the suite's summary line adds up. */
export interface FaultFigures {
  fault: string;
  survived: boolean;
  predictionsLost?: number;
  rowsDuplicated?: number;
  outageP99Ms?: number;
  /** Activity attempts after the first that the fault caused (retries that resumed work). */
  resumeAttempts?: number;
}

/**
 * Runs one fault scenario and appends its figures to `path` (one JSON line each), survived or not:
 * a fault whose assertions fail still counts as tried, and so does one that never ends (a test
 * timeout): a first line says it began, the last line about a fault counts. The figures the body
 * set before it failed are kept.
 */
export async function recordFault(path: string, fault: string, body: (figures: FaultFigures) => Promise<void>): Promise<void> {
  const figures: FaultFigures = { fault, survived: false };
  await appendFile(path, `${JSON.stringify(figures)}\n`);
  try {
    await body(figures);
    figures.survived = true;
  } finally {
    await appendFile(path, `${JSON.stringify(figures)}\n`);
  }
}

export interface FaultSummary {
  faults_tried: number;
  faults_survived: number;
  predictions_lost: number;
  rows_duplicated: number;
  outage_p99_ms: number | null;
  resume_attempts: number;
}

export async function summarise(path: string): Promise<FaultSummary> {
  const text = await readFile(path, 'utf8').catch(() => '');
  const last = new Map<string, FaultFigures>();
  for (const line of text.split('\n').filter(Boolean)) {
    const figures = JSON.parse(line) as FaultFigures;
    last.set(figures.fault, figures);
  }
  const all = [...last.values()];
  const sum = (pick: (f: FaultFigures) => number | undefined) => all.reduce((total, f) => total + (pick(f) ?? 0), 0);
  const p99s = all.map((f) => f.outageP99Ms).filter((v): v is number => v !== undefined);
  return {
    faults_tried: all.length,
    faults_survived: all.filter((f) => f.survived).length,
    predictions_lost: sum((f) => f.predictionsLost),
    rows_duplicated: sum((f) => f.rowsDuplicated),
    outage_p99_ms: p99s.length ? Math.max(...p99s) : null,
    resume_attempts: sum((f) => f.resumeAttempts),
  };
}
