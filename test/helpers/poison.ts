import { PoisonMessageError } from '../../src/errors';

/** Asserts that `f` throws a PoisonMessageError (what a reader of an internal topic skips). */
export function expectPoison(f: () => unknown): void {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(PoisonMessageError);
    expect((e as PoisonMessageError).code).toBe('CHARIOTS_ERR_POISON_MESSAGE');
    return;
  }
  throw new Error('expected a PoisonMessageError');
}
