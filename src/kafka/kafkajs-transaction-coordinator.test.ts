export {};

// The transaction-coordinator half of patches/kafkajs+2.2.4.patch: a transactional producer
// looks its coordinator up once (unpatched: one FindCoordinator before every AddPartitionsToTxn,
// EndTxn and AddOffsetsToTxn), and looks it up again when a request to it failed or its
// connection is gone.

interface FakeBroker {
  nodeId: number;
  connected: boolean;
  isConnected(): boolean;
  initProducerId(): Promise<{ producerId: string; producerEpoch: number }>;
  addPartitionsToTxn: jest.Mock;
  endTxn: jest.Mock;
  addOffsetsToTxn: jest.Mock;
  txnOffsetCommit: jest.Mock;
}
interface EosManager {
  initProducerId(): Promise<void>;
  beginTransaction(): void;
  addPartitionsToTransaction(
    t: Array<{ topic: string; partitions: Array<{ partition: number }> }>,
  ): Promise<void>;
  sendOffsets(o: { consumerGroupId: string; topics: unknown[] }): Promise<void>;
  commit(): Promise<void>;
  abort(): Promise<void>;
}
type CreateEosManager = (o: Record<string, unknown>) => EosManager;

// eslint-disable-next-line @typescript-eslint/no-require-imports
const createEosManager = require('kafkajs/src/producer/eosManager') as CreateEosManager;

const silent = {
  debug: () => undefined,
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
};

function broker(nodeId: number): FakeBroker {
  return {
    nodeId,
    connected: true,
    isConnected() {
      return this.connected;
    },
    initProducerId: () => Promise.resolve({ producerId: '7', producerEpoch: 0 }),
    addPartitionsToTxn: jest.fn(() => Promise.resolve()),
    endTxn: jest.fn(() => Promise.resolve()),
    addOffsetsToTxn: jest.fn(() => Promise.resolve()),
    txnOffsetCommit: jest.fn(() => Promise.resolve()),
  };
}

function setup() {
  const coordinators = [broker(1), broker(2), broker(3), broker(4)];
  let lookups = 0;
  let groupLookups = 0;
  const findGroupCoordinator = jest.fn(({ coordinatorType }: { coordinatorType?: number }) =>
    // The transaction coordinator moves on each lookup between nodes 1 and 2, the group
    // coordinator (sendOffsets) between nodes 3 and 4, so a test sees where a request went.
    Promise.resolve(
      coordinatorType ? coordinators[lookups++ % 2] : coordinators[2 + (groupLookups++ % 2)],
    ),
  );
  const cluster = {
    findGroupCoordinator,
    retry: { initialRetryTime: 1, retries: 3 },
    refreshMetadataIfNecessary: () => Promise.resolve(),
  };
  const eos = createEosManager({
    logger: silent,
    cluster,
    transactional: true,
    transactionalId: 'tx-test',
  });
  const txLookups = () => findGroupCoordinator.mock.calls.filter(([a]) => a.coordinatorType).length;
  const transaction = async () => {
    eos.beginTransaction();
    await eos.addPartitionsToTransaction([{ topic: 'out', partitions: [{ partition: 0 }] }]);
    await eos.commit();
  };
  return { eos, coordinators, txLookups, transaction };
}

// Errors as kafkajs raises them: a broker's answer, and a request that got none in time.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { createErrorFromCode } = require('kafkajs/src/protocol/error') as {
  createErrorFromCode: (code: number) => Error & { type: string };
};
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { KafkaJSRequestTimeoutError } = require('kafkajs/src/errors') as {
  KafkaJSRequestTimeoutError: new (message: string) => Error;
};
const CODES: Record<string, number> = {
  GROUP_LOAD_IN_PROGRESS: 14,
  GROUP_COORDINATOR_NOT_AVAILABLE: 15,
  NOT_COORDINATOR_FOR_GROUP: 16,
  INVALID_PRODUCER_EPOCH: 47,
  CONCURRENT_TRANSACTIONS: 51,
};
const protocolError = (type: string) => {
  const e = createErrorFromCode(CODES[type]);
  expect(e.type).toBe(type);
  return e;
};

describe('kafkajs transaction coordinator (patched)', () => {
  it('is looked up once for many transactions (unpatched: twice in each)', async () => {
    const { eos, coordinators, txLookups, transaction } = setup();
    await eos.initProducerId();
    for (let i = 0; i < 5; i++) await transaction();
    expect(txLookups()).toBe(1);
    expect(coordinators[0].addPartitionsToTxn).toHaveBeenCalledTimes(5);
    expect(coordinators[0].endTxn).toHaveBeenCalledTimes(5);
  });

  it.each([
    'NOT_COORDINATOR_FOR_GROUP',
    'GROUP_COORDINATOR_NOT_AVAILABLE',
    'GROUP_LOAD_IN_PROGRESS',
    'a request timeout',
  ])('is looked up again after a request to it failed: %s', async (why) => {
    const { eos, coordinators, txLookups } = setup();
    await eos.initProducerId();
    const failure =
      why === 'a request timeout'
        ? new KafkaJSRequestTimeoutError('Request AddOffsetsToTxn timed out')
        : protocolError(why);
    coordinators[0].addOffsetsToTxn.mockImplementationOnce(() => Promise.reject(failure));
    eos.beginTransaction();
    await eos.addPartitionsToTransaction([{ topic: 'out', partitions: [{ partition: 0 }] }]);
    await expect(eos.sendOffsets({ consumerGroupId: 'g', topics: [] })).rejects.toBe(failure);
    await eos.abort();
    expect(txLookups()).toBe(2);
    // The abort went to the coordinator looked up after the failure.
    expect(coordinators[0].endTxn).not.toHaveBeenCalled();
    expect(coordinators[1].endTxn).toHaveBeenCalledTimes(1);
  });

  it('is looked up again when its connection is gone', async () => {
    const { eos, coordinators, txLookups, transaction } = setup();
    await eos.initProducerId();
    await transaction();
    coordinators[0].connected = false;
    await transaction();
    expect(txLookups()).toBe(2);
    expect(coordinators[1].endTxn).toHaveBeenCalledTimes(1);
  });

  it('is looked up afresh by InitProducerId (a restarted or fenced producer)', async () => {
    const { eos, txLookups, transaction } = setup();
    await eos.initProducerId();
    await transaction();
    await eos.initProducerId();
    expect(txLookups()).toBe(2);
  });

  it('sends offsets through the kept coordinator', async () => {
    const { eos, coordinators, txLookups } = setup();
    await eos.initProducerId();
    eos.beginTransaction();
    await eos.sendOffsets({ consumerGroupId: 'g', topics: [] });
    await eos.commit();
    expect(txLookups()).toBe(1);
    expect(coordinators[0].addOffsetsToTxn).toHaveBeenCalledTimes(1);
    expect(coordinators[2].txnOffsetCommit).toHaveBeenCalledTimes(1);
  });

  it('is looked up again after a lost connection, kept after its own refusal', async () => {
    const { eos, coordinators, txLookups, transaction } = setup();
    await eos.initProducerId();
    /** A transaction whose AddPartitionsToTxn `on` refuses with `error`, then one more. */
    const failThenAgain = async (on: FakeBroker, error: Error) => {
      on.addPartitionsToTxn.mockImplementationOnce(() => Promise.reject(error));
      await expect(transaction()).rejects.toBe(error);
      await eos.abort();
      await transaction();
    };
    const lost = Object.assign(new Error('Connection closed'), { name: 'KafkaJSConnectionError' });
    await failThenAgain(coordinators[0], lost);
    expect(txLookups()).toBe(2);
    expect(coordinators[1].endTxn).toHaveBeenCalledTimes(1);
    // Node 2's own refusal (the coordinator answering) keeps it.
    await failThenAgain(coordinators[1], protocolError('INVALID_PRODUCER_EPOCH'));
    expect(txLookups()).toBe(2);
    expect(coordinators[1].endTxn).toHaveBeenCalledTimes(2);
  });
});

describe('AddPartitionsToTxn answered CONCURRENT_TRANSACTIONS (patched)', () => {
  it('is retried at once, quietly, on the kept coordinator', async () => {
    const { eos, coordinators, txLookups, transaction } = setup();
    await eos.initProducerId();
    const busy = protocolError('CONCURRENT_TRANSACTIONS');
    coordinators[0].addPartitionsToTxn
      .mockImplementationOnce(() => Promise.reject(busy))
      .mockImplementationOnce(() => Promise.reject(busy));
    await transaction();
    expect(coordinators[0].addPartitionsToTxn).toHaveBeenCalledTimes(3);
    expect(coordinators[0].endTxn).toHaveBeenCalledTimes(1);
    expect(txLookups()).toBe(1);
  });

  it('goes up to the caller when the coordinator stays busy', async () => {
    const { eos, coordinators, transaction } = setup();
    await eos.initProducerId();
    const busy = protocolError('CONCURRENT_TRANSACTIONS');
    coordinators[0].addPartitionsToTxn.mockImplementation(() => Promise.reject(busy));
    await expect(transaction()).rejects.toBe(busy);
    // 2, 4, … 64 ms between the attempts: seven in all.
    expect(coordinators[0].addPartitionsToTxn).toHaveBeenCalledTimes(7);
  });
});

describe('TxnOffsetCommit sent to a group coordinator that moved (patched)', () => {
  it.each(['NOT_COORDINATOR_FOR_GROUP', 'GROUP_COORDINATOR_NOT_AVAILABLE'])(
    '%s: the group coordinator is looked up again and the commit retried there',
    async (type) => {
      const { eos, coordinators } = setup();
      await eos.initProducerId();
      coordinators[2].txnOffsetCommit.mockImplementationOnce(() =>
        Promise.reject(protocolError(type)),
      );
      eos.beginTransaction();
      await eos.sendOffsets({ consumerGroupId: 'g', topics: [] });
      await eos.commit();
      expect(coordinators[3].txnOffsetCommit).toHaveBeenCalledTimes(1);
      expect(coordinators[0].endTxn).toHaveBeenCalledTimes(1);
    },
  );

  it('GROUP_LOAD_IN_PROGRESS: retried on the same coordinator', async () => {
    const { eos, coordinators } = setup();
    await eos.initProducerId();
    coordinators[2].txnOffsetCommit.mockImplementationOnce(() =>
      Promise.reject(protocolError('GROUP_LOAD_IN_PROGRESS')),
    );
    eos.beginTransaction();
    await eos.sendOffsets({ consumerGroupId: 'g', topics: [] });
    expect(coordinators[2].txnOffsetCommit).toHaveBeenCalledTimes(2);
    expect(coordinators[3].txnOffsetCommit).not.toHaveBeenCalled();
  });
});
