import { describe, expect, it } from 'vitest';
import { mergeExpositions } from '../../src/serving/metrics-merge';

const one = `# HELP keel_predict_requests_total Prediction requests.
# TYPE keel_predict_requests_total counter
keel_predict_requests_total{model="m",version="1",protocol="v1"} 5
# HELP keel_predict_duration_seconds Latency.
# TYPE keel_predict_duration_seconds histogram
keel_predict_duration_seconds_bucket{model="m",le="0.001"} 4
keel_predict_duration_seconds_bucket{model="m",le="+Inf"} 5
keel_predict_duration_seconds_sum{model="m"} 0.004
keel_predict_duration_seconds_count{model="m"} 5
# HELP process_cpu_seconds_total CPU.
# TYPE process_cpu_seconds_total counter
process_cpu_seconds_total 1.5
`;
const two = one.replace(' 5\n', ' 7\n').replace('process_cpu_seconds_total 1.5', 'process_cpu_seconds_total 2.5');

describe('mergeExpositions', () => {
  it("writes each family's HELP and TYPE once and every process's samples under it, labelled", () => {
    const merged = mergeExpositions([
      { process: '1', text: one },
      { process: '2', text: two },
    ]);
    expect(merged.match(/# TYPE keel_predict_requests_total counter/g)).toHaveLength(1);
    expect(merged).toContain(
      [
        '# HELP keel_predict_requests_total Prediction requests.',
        '# TYPE keel_predict_requests_total counter',
        'keel_predict_requests_total{process="1",model="m",version="1",protocol="v1"} 5',
        'keel_predict_requests_total{process="2",model="m",version="1",protocol="v1"} 7',
        '# HELP keel_predict_duration_seconds Latency.',
      ].join('\n'),
    );
    expect(merged).toContain('keel_predict_duration_seconds_bucket{process="2",model="m",le="+Inf"} 5\n');
    expect(merged).toContain('process_cpu_seconds_total{process="1"} 1.5\nprocess_cpu_seconds_total{process="2"} 2.5\n');
    // Every sample line carries the label; nothing was lost or invented.
    const samples = merged.split('\n').filter((line) => line !== '' && !line.startsWith('#'));
    expect(samples).toHaveLength(12);
    expect(samples.every((line) => line.includes('{process="'))).toBe(true);
  });

  it('keeps label values with spaces and braces intact', () => {
    const merged = mergeExpositions([{ process: '3', text: '# TYPE x gauge\nx{route="/v1/models/{name}:predict",m="a b"} 1\n' }]);
    expect(merged).toBe('# TYPE x gauge\nx{process="3",route="/v1/models/{name}:predict",m="a b"} 1\n');
  });
});
