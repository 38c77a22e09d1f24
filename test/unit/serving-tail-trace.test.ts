import { createServer } from 'node:http';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startTailTrace, stopTailTrace, tailTrace } from '../../src/serving/tail-trace';

/** KEEL_TAIL_TRACE: a slow request is written with the time each stage's spans overlapped it. */
describe('tail trace', () => {
  let dir: string | undefined;
  afterEach(async () => {
    await stopTailTrace();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('attributes a slow request to the stage whose span covered it', async () => {
    dir = await mkdtemp(join(tmpdir(), 'keel-tail-trace-'));
    startTailTrace(join(dir, 'trace'));
    // A request that waits 30 ms on a "spool write", as an answer waits for its lines.
    const server = createServer((_req, res) => {
      const started = performance.now();
      setTimeout(() => {
        tailTrace?.span('spool', started);
        res.end('ok');
      }, 30);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    expect(await (await fetch(`http://127.0.0.1:${port}/`)).text()).toBe('ok');
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await stopTailTrace();

    const [file] = await readdir(dir);
    expect(file).toBe(`trace.${process.pid}.jsonl`);
    const records = (await readFile(join(dir, file), 'utf8'))
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as Record<string, unknown>);
    const slow = records.filter((r) => r.type === 'slow');
    expect(slow).toHaveLength(1);
    const [request] = slow as { ms: number; spool: number; inline: number; copy: number }[];
    expect(request.ms).toBeGreaterThanOrEqual(29);
    // The spool span covered nearly all of it; no other stage ran.
    expect(request.spool).toBeGreaterThan(25);
    expect(request.spool).toBeLessThanOrEqual(request.ms);
    expect(request.inline + request.copy).toBe(0);
    const second = records.find((r) => r.type === 'second') as { requests: number; spool: { n: number; max: number } };
    expect(second.requests).toBe(1);
    expect(second.spool.n).toBe(1);
    expect(second.spool.max).toBeGreaterThan(25);
  });
});
