/** Splits a byte stream into NDJSON lines (UTF-8 safe across chunk borders; blank lines skipped). */
export class NdjsonSplitter {
  private readonly decoder = new TextDecoder();
  private rest = '';

  /** The complete lines that `chunk` finishes; a trailing partial line waits for more. */
  push(chunk: Uint8Array): string[] {
    const text = this.rest + this.decoder.decode(chunk, { stream: true });
    const lines = text.split('\n');
    this.rest = lines.pop() ?? '';
    return lines.map((l) => l.trim()).filter((l) => l.length > 0);
  }
}
