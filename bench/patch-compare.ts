/**
 * The harness of bench/kafkajs-encode.ts and bench/kafkajs-decode.ts: times a function of the
 * unpatched kafkajs against the same function of the patched one, alternating which goes
 * first each round (so drift in the machine's speed hits both alike), and prints a table of
 * medians with the speed-up.
 */

/** ms per call of `f`, over enough calls to take ~50 ms. */
async function timeOf(f: () => unknown): Promise<number> {
  let calls = 1;
  for (;;) {
    const start = process.hrtime.bigint();
    for (let i = 0; i < calls; i++) await f();
    const ms = Number(process.hrtime.bigint() - start) / 1e6;
    if (ms >= 50) return ms / calls;
    calls *= 2;
  }
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

export class PatchComparison<Impl> {
  private readonly rows: string[][] = [['what', 'n', 'original', 'patched', 'speed-up']];

  constructor(
    private readonly impls: { original: Impl; patched: Impl },
    private readonly rounds: number,
  ) {}

  /** Median ms per call of each implementation's `f`, alternating which goes first. */
  async compare(f: (i: Impl) => () => unknown): Promise<[number, number]> {
    const original = f(this.impls.original);
    const patched = f(this.impls.patched);
    await timeOf(original); // warm-up
    await timeOf(patched);
    const o: number[] = [];
    const p: number[] = [];
    for (let r = 0; r < this.rounds; r++) {
      if (r % 2) {
        o.push(await timeOf(original));
        p.push(await timeOf(patched));
      } else {
        p.push(await timeOf(patched));
        o.push(await timeOf(original));
      }
    }
    return [median(o), median(p)];
  }

  /** Compares `f` and adds a row: ms per `per` units (e.g. n / 1000 for ms per 1 000). */
  async row(what: string, n: number | string, f: (i: Impl) => () => unknown, per: number) {
    const [o, p] = await this.compare(f);
    this.rows.push([
      what,
      String(n),
      (o / per).toFixed(3),
      (p / per).toFixed(3),
      `${(o / p).toFixed(1)}×`,
    ]);
  }

  print(footer: string): void {
    const rows = this.rows;
    const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => r[c].length)));
    for (const r of rows)
      process.stdout.write(`${r.map((cell, c) => cell.padStart(widths[c])).join('  ')}\n`);
    process.stdout.write(`${footer}\n`);
  }
}
