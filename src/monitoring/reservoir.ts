/**
 * Uniform reservoir sampling with geometric skips (Li's "Algorithm L"): the reservoir of k values
 * is a uniform sample of all values seen, for O(k·(1 + log(n/k))) random draws instead of one per
 * value — what keeps a reference of millions of rows cheap to build.
 *
 * Fill slots 0..k−1 with the first k values; then, for each later value i (in order), it replaces
 * slot `replace()` when i === `next`.
 */
export class ReservoirSkips {
  /** Index of the next value that enters the reservoir. */
  next: number;
  private w: number;

  constructor(
    private readonly k: number,
    private readonly random: () => number,
  ) {
    this.w = Math.exp(Math.log(this.draw()) / k);
    this.next = k + this.skip();
  }

  /** The slot value `next` replaces; advances `next`. */
  replace(): number {
    const slot = Math.floor(this.random() * this.k);
    this.w *= Math.exp(Math.log(this.draw()) / this.k);
    this.next += this.skip() + 1;
    return slot;
  }

  /** In (0, 1]: the logarithms stay finite. */
  private draw(): number {
    return 1 - this.random();
  }

  private skip(): number {
    const skip = Math.floor(Math.log(this.draw()) / Math.log(1 - this.w));
    return Number.isFinite(skip) && skip > 0 ? skip : 0;
  }
}
