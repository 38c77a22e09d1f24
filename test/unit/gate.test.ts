import { describe, expect, it } from 'vitest';
import { decideGate } from '../../src/shared/gate';

const gate = { minRocAuc: 0.6, maxDropVsProduction: 0.01 };

describe('gate', () => {
  it('passes a candidate above the minimum when nothing is in production', () => {
    expect(decideGate(gate, { rocAuc: 0.65 })).toEqual({
      passed: true,
      reasons: ['ROC AUC 0.6500 ≥ 0.6, no production version to compare with'],
    });
  });

  it('rejects below the absolute minimum, saying so', () => {
    const decision = decideGate(gate, { rocAuc: 0.59 });
    expect(decision.passed).toBe(false);
    expect(decision.reasons).toEqual(['ROC AUC 0.5900 is below the minimum 0.6']);
  });

  it('allows trailing production by at most the configured margin', () => {
    expect(decideGate(gate, { rocAuc: 0.695 }, { version: 3, metrics: { rocAuc: 0.7 } }).passed).toBe(true);
    const decision = decideGate(gate, { rocAuc: 0.68 }, { version: 3, metrics: { rocAuc: 0.7 } });
    expect(decision.passed).toBe(false);
    expect(decision.reasons[0]).toContain('trails production v3 (0.7000) by more than 0.01');
  });

  it('never passes a NaN metric', () => {
    expect(decideGate(gate, { rocAuc: Number.NaN }).passed).toBe(false);
  });
});
