import { chunkBySize } from './chunk';
import type { OutMessage } from './types';

const msg = (value: string | Buffer): OutMessage => ({ topic: 't', key: 'k', value });

describe('chunkBySize', () => {
  it('keeps order and puts every message in exactly one chunk under the bound', () => {
    const messages = Array.from({ length: 100 }, (_, i) => msg(Buffer.alloc(100, i)));
    const chunks = chunkBySize(messages, 1000);
    expect(chunks.flat()).toEqual(messages);
    // 100 value bytes + 1 key byte + 64 overhead each: 6 fit under 1000.
    expect(chunks.map((c) => c.length)).toEqual([...Array(16).fill(6), 4]);
  });

  it('counts a string value in UTF-8 bytes, not UTF-16 units (regression: .length undercounts)', () => {
    const wide = '値'.repeat(100); // 100 units, 300 bytes
    const chunks = chunkBySize([msg(wide), msg(wide), msg(wide)], 800);
    // By .length (165 each) all three would share one chunk; by bytes (365 each) two fit.
    expect(chunks.map((c) => c.length)).toEqual([2, 1]);
  });

  it('gives a message larger than the bound a chunk of its own', () => {
    const chunks = chunkBySize([msg('a'), msg(Buffer.alloc(5000)), msg('b')], 1000);
    expect(chunks.map((c) => c.length)).toEqual([1, 1, 1]);
  });
});
