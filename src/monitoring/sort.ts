/**
 * Ascending sort of NaN-free float64 values by LSD radix sort on their bit patterns: four passes
 * of 16 bits over the (low, high) 32-bit words, a pass skipped when every value shares its digit.
 * Two to three times faster than Float64Array.prototype.sort for the 1e4–1e6 values a drift
 * window holds; the order is the same (−0 before +0). Small arrays use the built-in sort.
 */

const RADIX_MIN = 8192;
const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** Sorts `values` in place and returns it. NaN is not allowed (callers drop missing values first). */
export function sortFloat64(values: Float64Array): Float64Array {
  const n = values.length;
  if (n < RADIX_MIN || !LITTLE_ENDIAN) return values.sort();
  // Little-endian: word 2i is the low half of value i, 2i+1 the high half.
  const words = new Uint32Array(values.buffer, values.byteOffset, n * 2);
  // Order-preserving map to unsigned keys: negatives flip every bit, positives the sign bit.
  for (let i = 0; i < n; i++) {
    const high = words[2 * i + 1];
    if (high & 0x80000000) {
      words[2 * i + 1] = ~high;
      words[2 * i] = ~words[2 * i];
    } else {
      words[2 * i + 1] = high | 0x80000000;
    }
  }
  const counts = scratchCounts();
  for (let i = 0; i < n; i++) {
    const low = words[2 * i];
    const high = words[2 * i + 1];
    counts[low & 0xffff]++;
    counts[65536 + (low >>> 16)]++;
    counts[131072 + (high & 0xffff)]++;
    counts[196608 + (high >>> 16)]++;
  }
  let source: Uint32Array = words;
  let target: Uint32Array = scratchWords(n * 2);
  for (let pass = 0; pass < 4; pass++) {
    const base = pass * 65536;
    const word = pass >> 1;
    const shift = (pass & 1) * 16;
    // Every value has the same digit: nothing moves.
    const first = (source[word] >>> shift) & 0xffff;
    if (counts[base + first] === n) continue;
    let sum = 0;
    for (let b = 0; b < 65536; b++) {
      const c = counts[base + b];
      counts[base + b] = sum;
      sum += c;
    }
    for (let i = 0; i < n; i++) {
      const low = source[2 * i];
      const high = source[2 * i + 1];
      const digit = ((word ? high : low) >>> shift) & 0xffff;
      const position = 2 * counts[base + digit]++;
      target[position] = low;
      target[position + 1] = high;
    }
    const swap = source;
    source = target;
    target = swap;
  }
  if (source !== words) words.set(source);
  for (let i = 0; i < n; i++) {
    const high = words[2 * i + 1];
    if (high & 0x80000000) {
      words[2 * i + 1] = high & 0x7fffffff;
    } else {
      words[2 * i + 1] = ~high;
      words[2 * i] = ~words[2 * i];
    }
  }
  return values;
}

// Scratch buffers reused across calls (sorting is synchronous): a drift check sorts two arrays per
// numeric column, and fresh 1–2 MB buffers each time cost more in garbage collection than the sort.
let countsBuffer: Uint32Array | null = null;
let wordsBuffer: Uint32Array | null = null;

function scratchCounts(): Uint32Array {
  countsBuffer ??= new Uint32Array(4 * 65536);
  countsBuffer.fill(0);
  return countsBuffer;
}

function scratchWords(length: number): Uint32Array {
  if (!wordsBuffer || wordsBuffer.length < length) wordsBuffer = new Uint32Array(Math.max(length, Math.min(2 * length, 1 << 22)));
  return wordsBuffer.subarray(0, length);
}
