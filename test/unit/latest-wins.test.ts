import { afterEach, describe, expect, it, vi } from 'vitest';
import { latestWins } from '../../src/runtime/latest-wins';

/** A write that finishes only when the test says so. */
function gatedWriter() {
  const written: number[] = [];
  const gates: (() => void)[] = [];
  const write = async (value: number) => {
    await new Promise<void>((resolve) => gates.push(resolve));
    written.push(value);
  };
  const openNext = async () => {
    while (gates.length === 0) await Promise.resolve();
    gates.shift()!();
    await new Promise((resolve) => setImmediate(resolve));
  };
  return { written, write, openNext, pending: () => gates.length };
}

describe('latestWins', () => {
  it('writes the first value at once and, of those offered meanwhile, only the newest', async () => {
    const writer = gatedWriter();
    const queue = latestWins(writer.write);
    queue.offer(1);
    queue.offer(2);
    queue.offer(3);
    queue.offer(4);
    await writer.openNext();
    await writer.openNext();
    await queue.flush();
    expect(writer.written).toEqual([1, 4]);
  });

  it('writes one at a time, in order, and flush waits for the last', async () => {
    let inFlight = 0;
    let most = 0;
    const written: number[] = [];
    const queue = latestWins(async (value: number) => {
      inFlight++;
      most = Math.max(most, inFlight);
      await new Promise((resolve) => setTimeout(resolve, 2));
      written.push(value);
      inFlight--;
    });
    for (let value = 1; value <= 20; value++) {
      queue.offer(value);
      if (value % 5 === 0) await new Promise((resolve) => setTimeout(resolve, 5));
    }
    await queue.flush();
    expect(most).toBe(1);
    expect(written.at(-1)).toBe(20);
    expect([...written].sort((a, b) => a - b)).toEqual(written);
    expect(written.length).toBeLessThan(20);
  });

  it('starts again after it has gone idle', async () => {
    const written: number[] = [];
    const queue = latestWins(async (value: number) => {
      written.push(value);
    });
    queue.offer(1);
    await queue.flush();
    queue.offer(2);
    await queue.flush();
    expect(written).toEqual([1, 2]);
  });

  it('rejects flush with a failed write, and takes new values after it', async () => {
    const queue = latestWins(async (value: number) => {
      if (value === 1) throw new Error('disk full');
    });
    queue.offer(1);
    await expect(queue.flush()).rejects.toThrow('disk full');
    queue.offer(2);
    await expect(queue.flush()).resolves.toBeUndefined();
  });
});

describe('latestWins with a rest between writes', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('rests restFactor times as long as each write took, and flush cuts the rest short', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'performance'] });
    const starts: number[] = [];
    const queue = latestWins(
      async (value: number) => {
        starts.push(performance.now());
        await new Promise((resolve) => setTimeout(resolve, 20 * value));
      },
      { restFactor: 3 },
    );
    queue.offer(1);
    queue.offer(2);
    // Write 1 takes 20 ms, then a rest of 60 ms; write 2 starts at 80 ms.
    await vi.advanceTimersByTimeAsync(79);
    expect(starts).toEqual([0]);
    await vi.advanceTimersByTimeAsync(1);
    expect(starts).toEqual([0, 80]);
    // Write 2 takes 40 ms (to 120), then rests 120 ms; 3, offered in the rest, waits for its end.
    await vi.advanceTimersByTimeAsync(50);
    queue.offer(3);
    await vi.advanceTimersByTimeAsync(100);
    expect(starts).toEqual([0, 80]);
    // Unless flushed: the rest ends at once.
    const flushed = queue.flush();
    await vi.advanceTimersByTimeAsync(60);
    await flushed;
    expect(starts).toEqual([0, 80, 230]);
  });
});
