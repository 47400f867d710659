import { OffsetPacer } from './offset-pacer';

beforeEach(() => jest.useFakeTimers());
afterEach(() => jest.useRealTimers());

test('interval 0: every transaction with an input offset carries it', () => {
  const pacer = new OffsetPacer(0, () => undefined);
  expect(pacer.due('5', false)).toBe(true);
  pacer.sent(performance.now());
  expect(pacer.due('6', false)).toBe(true);
  expect(pacer.due(undefined, false)).toBe(false);
});

test('at most once per interval, unless flushing', () => {
  const pacer = new OffsetPacer(1000, () => undefined);
  expect(pacer.due('1', false)).toBe(true); // never sent yet
  pacer.sent(performance.now());
  jest.advanceTimersByTime(999);
  expect(pacer.due('2', false)).toBe(false);
  expect(pacer.due('2', true)).toBe(true);
  jest.advanceTimersByTime(1);
  expect(pacer.due('3', false)).toBe(true);
});

test('a held offset is flushed once, when the interval since the last send is over', () => {
  const flush = jest.fn();
  const pacer = new OffsetPacer(1000, flush);
  pacer.sent(performance.now());
  jest.advanceTimersByTime(300);
  pacer.hold('7');
  pacer.hold('8'); // the newer offset replaces it; still one timer
  expect(pacer.pending).toBe('8');
  jest.advanceTimersByTime(699);
  expect(flush).not.toHaveBeenCalled();
  jest.advanceTimersByTime(1);
  expect(flush).toHaveBeenCalledTimes(1);
  pacer.sent(performance.now());
  expect(pacer.pending).toBeUndefined();
});

test('stop: no trailing flush, and none scheduled afterwards; pending stays for close()', () => {
  const flush = jest.fn();
  const pacer = new OffsetPacer(1000, flush);
  pacer.sent(performance.now());
  pacer.hold('1');
  pacer.stop();
  pacer.hold('2');
  jest.advanceTimersByTime(5000);
  expect(flush).not.toHaveBeenCalled();
  expect(pacer.pending).toBe('2');
});
