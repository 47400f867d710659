/** A growable Uint32Array: 4 bytes per frame position instead of a JS array's 8+. */
export class U32List {
  private a: Uint32Array;
  length = 0;

  constructor(capacity = 1024) {
    this.a = new Uint32Array(capacity);
  }

  static from(values: ArrayLike<number>): U32List {
    const l = new U32List(Math.max(16, values.length * 2));
    l.a.set(values);
    l.length = values.length;
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

  at(i: number): number {
    return this.a[i];
  }

  toArray(): number[] {
    return Array.from(this.a.subarray(0, this.length));
  }
}
