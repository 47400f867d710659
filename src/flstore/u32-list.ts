/** A growable Uint32Array: 4 bytes per frame position instead of a JS array's 8+. */
export class U32List {
  private a: Uint32Array;
  length = 0;

  constructor(capacity = 1024) {
    this.a = new Uint32Array(capacity);
  }

  /** `values` then `last`, with room for `spare` more (0 for a list that stops growing). */
  static from(values: ArrayLike<number>, last: number, spare: number): U32List {
    const l = new U32List(values.length + 1 + spare);
    l.a.set(values);
    l.a[values.length] = last;
    l.length = values.length + 1;
    return l;
  }

  push(v: number): void {
    if (this.length === this.a.length) {
      const b = new Uint32Array(this.a.length * 2);
      b.set(this.a);
      this.a = b;
    }
    this.a[this.length++] = v;
  }

  /** Drops the spare capacity (a sealed segment's list never grows again). */
  compact(): void {
    this.a = this.a.slice(0, this.length);
  }

  at(i: number): number {
    return this.a[i];
  }

  /** The values, without copying (valid until the next push). */
  view(): Uint32Array {
    return this.a.subarray(0, this.length);
  }

  toArray(): number[] {
    return Array.from(this.a.subarray(0, this.length));
  }
}
