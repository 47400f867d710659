import {
  BrokerUnavailableError,
  ChariotsError,
  ERROR_CODES,
  FencedError,
  PoisonMessageError,
  ValidationError,
} from './errors';

describe('error catalog', () => {
  it('every code is namespaced and maps to an HTTP status', () => {
    for (const [code, meta] of Object.entries(ERROR_CODES)) {
      expect(code).toMatch(/^CHARIOTS_ERR_[A-Z0-9_]+$/);
      expect(meta.httpStatus).toBeGreaterThanOrEqual(400);
      expect(meta.httpStatus).toBeLessThan(600);
    }
  });

  it('serializes to the wire shape {"error":{"code","message"}}', () => {
    const e = new ValidationError('CHARIOTS_ERR_BAD_SEED', 'seed: not a uint64');
    expect(JSON.parse(JSON.stringify(e))).toEqual({
      error: { code: 'CHARIOTS_ERR_BAD_SEED', message: 'seed: not a uint64' },
    });
    expect(e.httpStatus).toBe(400);
    expect(e.retriable).toBe(false);
    expect(e).toBeInstanceOf(ChariotsError);
  });

  it('control-flow errors are their own classes with their codes', () => {
    expect(new BrokerUnavailableError('down').code).toBe('CHARIOTS_ERR_BROKER_UNAVAILABLE');
    expect(new BrokerUnavailableError('down').retriable).toBe(true);
    expect(new BrokerUnavailableError('down').httpStatus).toBe(503);
    expect(new PoisonMessageError('bad').code).toBe('CHARIOTS_ERR_POISON_MESSAGE');
    expect(new FencedError('x').code).toBe('CHARIOTS_ERR_FENCED');
    expect(new ChariotsError('CHARIOTS_ERR_OVERLOADED', 'busy').httpStatus).toBe(429);
  });
});
