import type { CanaryHealthThresholds, HealthCheck, HealthReport, HealthSample, LatencyEvidence } from '../shared/canary';

const pct = (x: number) => `${(x * 100).toFixed(2)}%`;
const ms = (x: number) => `${x.toFixed(2)} ms`;

/**
 * Compares a candidate with its baseline. Pure: the activity measures, this decides.
 *
 * - error rate: breach when the candidate's rate exceeds the baseline's by more than
 *   `maxErrorRateIncrease`. Below `minRequests` candidate rows the rate is taken over
 *   `minRequests` (errors / max(rows, minRequests)): a breach that more traffic cannot undo is
 *   declared at once; otherwise the verdict waits. A baseline with fewer than `minRequests` rows
 *   counts as error-free (the candidate must stay within the allowance on its own).
 * - p99 latency, over `latency.sample` (both versions in the same window, after the step's
 *   warm-up; latency follows the machine's load, so it is never compared across different times:
 *   at 100 %, where the baseline answers nothing, it is not judged; nor in shadow): too slow when
 *   candidate p99 > `maxP99LatencyRatio` × baseline p99 AND candidate p99 − baseline p99 >
 *   `p99LatencyToleranceMs`, with at least `p99MinRequests` rows of each. A breach needs
 *   `p99ConsecutiveBreaches` consecutive too-slow checks (each over traffic newer than the last
 *   one's); until then the check is `unconfirmed`. A check that is fine resets the streak; one
 *   without enough rows keeps it.
 * - online accuracy (optional): breach when the candidate trails the baseline by more than
 *   `maxDrop`; judged only with `minLabelled` labelled predictions on both sides.
 * - verdict: any failed check → `breach`; else fewer than `minRequests` candidate rows →
 *   `insufficient_data`; else a latency streak short of a breach → `unconfirmed`; else `healthy`.
 */
export function judgeHealth(sample: HealthSample, thresholds: CanaryHealthThresholds, latency: LatencyEvidence): HealthReport {
  const { candidate: c, baseline: b } = sample;
  const min = thresholds.minRequests;
  const checks: HealthCheck[] = [];
  const baselineJudgeable = b.rows >= min;

  const baselineRate = baselineJudgeable ? b.errors / b.rows : 0;
  const allowed = baselineRate + thresholds.maxErrorRateIncrease;
  const rate = c.errors / Math.max(c.rows, min);
  const baselineText = baselineJudgeable
    ? `baseline v${b.version} ${pct(baselineRate)} of ${b.rows}`
    : `baseline v${b.version} has ${b.rows} < ${min} requests, counted as 0%`;
  if (rate > allowed + 1e-12) {
    const over =
      c.rows >= min
        ? `${pct(rate)} (${c.errors}/${c.rows})`
        : `at least ${pct(rate)} (${c.errors} errors in ${c.rows} of the ${min} requests needed)`;
    checks.push({
      name: 'error_rate',
      status: 'fail',
      detail: `candidate v${c.version} error rate ${over} exceeds ${baselineText} + ${pct(thresholds.maxErrorRateIncrease)}`,
    });
  } else if (c.rows >= min) {
    checks.push({ name: 'error_rate', status: 'pass', detail: `candidate ${pct(rate)} (${c.errors}/${c.rows}), ${baselineText}` });
  } else {
    checks.push({ name: 'error_rate', status: 'skipped', detail: `candidate has ${c.rows} < ${min} requests` });
  }

  const p99 = judgeLatency(sample.shadow, c.p99LatencyMs, thresholds, latency);
  checks.push(p99.check);

  const online = thresholds.onlineMetric;
  if (online) {
    if (c.labelled < online.minLabelled || b.labelled < online.minLabelled || c.accuracy === null || b.accuracy === null) {
      checks.push({
        name: 'online_accuracy',
        status: 'skipped',
        detail: `needs ${online.minLabelled} labelled predictions of each version (candidate ${c.labelled}, baseline ${b.labelled})`,
      });
    } else {
      const drop = b.accuracy - c.accuracy;
      checks.push({
        name: 'online_accuracy',
        status: drop > online.maxDrop + 1e-12 ? 'fail' : 'pass',
        detail: `candidate accuracy ${pct(c.accuracy)} (${c.labelled} labelled) vs baseline ${pct(b.accuracy)} (${b.labelled}); allowed drop ${pct(online.maxDrop)}`,
      });
    }
  }

  const report = { ...sample, checks, latency: p99.latency };
  const failed = checks.filter((check) => check.status === 'fail');
  if (failed.length > 0) return { ...report, verdict: 'breach', reasons: failed.map((f) => f.detail) };
  if (c.rows < min)
    return { ...report, verdict: 'insufficient_data', reasons: [`candidate v${c.version} has ${c.rows} of the ${min} requests needed`] };
  if (p99.latency.breaches > 0) {
    return {
      ...report,
      verdict: 'unconfirmed',
      reasons: [
        `p99 latency too slow in ${p99.latency.breaches} consecutive check(s) of the ${thresholds.p99ConsecutiveBreaches} that make a breach: ${p99.check.detail}`,
      ],
    };
  }
  return { ...report, verdict: 'healthy', reasons: [] };
}

/** The p99 latency check of `judgeHealth`, with the streak it leaves. */
function judgeLatency(
  shadow: boolean,
  candidateStepP99: number | null,
  thresholds: CanaryHealthThresholds,
  { sample, breaches }: LatencyEvidence,
): { check: HealthCheck; latency: HealthReport['latency'] } {
  const skipped = (detail: string, streak = breaches) => ({
    check: { name: 'p99_latency' as const, status: 'skipped' as const, detail },
    latency: { window: sample?.window ?? null, slow: false, breaches: streak },
  });
  if (shadow) return skipped(`shadow: the candidate runs on the low-priority queue (p99 ${fmt(candidateStepP99)})`, 0);
  if (!sample)
    return skipped(
      `warming up: latency is judged from ${thresholds.p99WarmupSeconds} s into the step (p99 so far ${fmt(candidateStepP99)})`,
    );
  const need = Math.max(thresholds.minRequests, thresholds.p99MinRequests);
  const { candidate: c, baseline: b } = sample;
  const pending = breaches > 0 ? `; ${breaches} too-slow check(s) await confirmation` : '';
  if (c.rows < need || b.rows < need || c.p99LatencyMs === null || b.p99LatencyMs === null) {
    return skipped(
      `needs ${need} requests of each version since ${sample.window.from} (candidate ${c.rows}, baseline ${b.rows}; p99 ${fmt(c.p99LatencyMs)} vs ${fmt(b.p99LatencyMs)})${pending}`,
    );
  }
  const ratio = b.p99LatencyMs > 0 ? c.p99LatencyMs / b.p99LatencyMs : Number.POSITIVE_INFINITY;
  const slow =
    c.p99LatencyMs > thresholds.maxP99LatencyRatio * b.p99LatencyMs && c.p99LatencyMs - b.p99LatencyMs > thresholds.p99LatencyToleranceMs;
  const streak = slow ? breaches + 1 : 0;
  const required = thresholds.p99ConsecutiveBreaches;
  const detail =
    `candidate p99 ${ms(c.p99LatencyMs)} vs baseline ${ms(b.p99LatencyMs)} (×${Number.isFinite(ratio) ? ratio.toFixed(2) : '∞'}; ` +
    `limit ×${thresholds.maxP99LatencyRatio} and +${thresholds.p99LatencyToleranceMs} ms) over ${c.rows} and ${b.rows} requests since ${sample.window.from}` +
    (slow ? `, too slow in ${streak} of ${required} consecutive checks` : '');
  const status = !slow ? 'pass' : streak >= required ? 'fail' : 'unconfirmed';
  return { check: { name: 'p99_latency', status, detail }, latency: { window: sample.window, slow, breaches: streak } };
}

function fmt(x: number | null): string {
  return x === null ? 'n/a' : ms(x);
}
