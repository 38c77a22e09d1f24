import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

/** HTTP load with wrk (Debian package `wrk`): one POST body per request, in turn, and its figures. */

const run = promisify(execFile);
const round = (x: number, digits: number) => Math.round(x * 10 ** digits) / 10 ** digits;

export interface WrkResult {
  requests: number;
  seconds: number;
  rps: number;
  p50_ms: number;
  p99_ms: number;
  errors: number;
}

export function luaScript(bodies: string[]): string {
  const list = bodies.map((b) => `[==[${b}]==]`).join(',\n');
  return `
local bodies = {
${list}
}
local i = 0
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
request = function()
  i = i + 1
  return wrk.format(nil, nil, nil, bodies[(i % #bodies) + 1])
end
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format('WRKJSON {"requests":%d,"duration_us":%d,"status_errors":%d,"socket_errors":%d,"p50_us":%d,"p99_us":%d}\\n',
    summary.requests, summary.duration, e.status, e.connect + e.read + e.write + e.timeout,
    latency:percentile(50), latency:percentile(99)))
end
`;
}

export async function wrk(url: string, connections: number, seconds: number, script: string): Promise<WrkResult> {
  const threads = Math.min(2, connections);
  const { stdout } = await run(
    'wrk',
    ['-t', String(threads), '-c', String(connections), '-d', `${seconds}s`, '--timeout', '5s', '-s', script, url],
    {
      maxBuffer: 16 << 20,
    },
  );
  const line = stdout.split('\n').find((l) => l.startsWith('WRKJSON '));
  if (!line) throw new Error(`wrk printed no result:\n${stdout}`);
  const r = JSON.parse(line.slice(8)) as {
    requests: number;
    duration_us: number;
    status_errors: number;
    socket_errors: number;
    p50_us: number;
    p99_us: number;
  };
  const secondsTaken = r.duration_us / 1e6;
  return {
    requests: r.requests,
    seconds: secondsTaken,
    rps: r.requests / secondsTaken,
    p50_ms: round(r.p50_us / 1000, 3),
    p99_ms: round(r.p99_us / 1000, 3),
    errors: r.status_errors + r.socket_errors,
  };
}

/** The median run, by requests per second unless `by` says otherwise. */
export function median<T extends { rps: number }>(runs: T[], by: (run: T) => number = (run) => run.rps): T {
  return [...runs].sort((a, b) => by(a) - by(b))[Math.floor(runs.length / 2)];
}
