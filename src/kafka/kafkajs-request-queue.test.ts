export {};

// The request-queue half of patches/kafkajs+2.2.4.patch: an idle connection arms no timer,
// and every request that had to wait (in-flight limit, broker throttling) is still sent.

interface Entry {
  apiKey: number;
  apiName: string;
  apiVersion: number;
  correlationId: number;
  resolve: (r: unknown) => void;
  reject: (e: unknown) => void;
}
interface RequestQueue {
  push(r: { entry: Entry; expectResponse: boolean; sendRequest: () => void }): void;
  fulfillRequest(r: { correlationId: number; payload: Buffer; size: number }): void;
  maybeThrottle(ms: number): void;
  checkPendingRequests(): void;
  destroy(): void;
  pending: unknown[];
  throttleCheckTimeoutId: unknown;
}
type RequestQueueClass = new (o: Record<string, unknown>) => RequestQueue;

// eslint-disable-next-line @typescript-eslint/no-require-imports
const Queue = require('kafkajs/src/network/requestQueue') as RequestQueueClass;

const silent = { debug: () => undefined, warn: () => undefined, error: () => undefined };

function setup(maxInFlightRequests = 1) {
  const queue = new Queue({
    maxInFlightRequests,
    requestTimeout: 30000,
    enforceRequestTimeout: false,
    clientId: 'test',
    broker: 'localhost:9092',
    logger: silent,
  });
  const sent: number[] = [];
  let next = 0;
  const push = () => {
    const correlationId = next++;
    queue.push({
      entry: {
        apiKey: 0,
        apiName: 'Produce',
        apiVersion: 3,
        correlationId,
        resolve: () => undefined,
        reject: () => undefined,
      },
      expectResponse: true,
      sendRequest: () => sent.push(correlationId),
    });
    return correlationId;
  };
  const answer = (correlationId: number) =>
    queue.fulfillRequest({ correlationId, payload: Buffer.alloc(0), size: 0 });
  return { queue, sent, push, answer };
}

describe('kafkajs request queue (patched)', () => {
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());

  it('arms no timer once its last request is answered (unpatched: a 1 ms timer forever)', () => {
    const { queue, push, answer } = setup();
    answer(push());
    expect(queue.throttleCheckTimeoutId).toBeNull();
    const check = jest.spyOn(queue, 'checkPendingRequests');
    jest.advanceTimersByTime(1000);
    expect(check).not.toHaveBeenCalled();
    expect(jest.getTimerCount()).toBe(0);
  });

  it('sends a request that waited for the in-flight slot when the slot frees', () => {
    const { queue, sent, push, answer } = setup(1);
    const a = push();
    const b = push();
    expect(sent).toEqual([a]);
    expect(queue.pending).toHaveLength(1);
    answer(a);
    expect(sent).toEqual([a, b]);
    answer(b);
    expect(queue.pending).toHaveLength(0);
    // The check armed while b waited fires once, finds nothing, and is not re-armed.
    jest.advanceTimersByTime(20);
    expect(jest.getTimerCount()).toBe(0);
  });

  it('sends a request pushed while throttled once the throttle ends, then goes quiet', () => {
    const { queue, sent, push, answer } = setup(5);
    queue.maybeThrottle(50);
    const a = push();
    expect(sent).toEqual([]);
    jest.advanceTimersByTime(49);
    expect(sent).toEqual([]);
    jest.advanceTimersByTime(20);
    expect(sent).toEqual([a]);
    answer(a);
    expect(jest.getTimerCount()).toBe(0);
  });

  it('still sends after a 1 ms throttle (a smoke test near kafkajs #1532: fake timers cannot race)', () => {
    const { queue, sent, push } = setup(5);
    queue.maybeThrottle(1);
    const a = push();
    jest.advanceTimersByTime(1);
    // The check may find the throttle just ending; it must re-arm, not give up.
    jest.advanceTimersByTime(20);
    expect(sent).toEqual([a]);
    queue.destroy();
  });
});
