/** The short chaos run inside the normal test run (≥ 10 faults); `npm run test:chaos` is the long one. */
import { testLogger } from '../helpers/cluster';
import { runChaos } from './chaos-run';

const seconds = Number(process.env.CHAOS_SECONDS ?? 60);

it(`loses, duplicates and reorders nothing under ${seconds} s of faults`, async () => {
  const s = await runChaos({
    seconds,
    rate: Number(process.env.CHAOS_RATE ?? 500),
    faultEveryMs: Number(process.env.CHAOS_FAULT_EVERY_MS ?? 4000),
  });
  testLogger.warn(s.line);
  process.stdout.write(`${s.line}\n`);
  expect(s.faults).toBeGreaterThanOrEqual(Math.min(10, Math.floor(seconds / 6)));
  expect({
    lost: s.lost,
    duplicated: s.duplicated,
    invented: s.invented,
    orderViolations: s.orderViolations,
    lidGaps: s.lidGaps,
  }).toEqual({ lost: 0, duplicated: 0, invented: 0, orderViolations: 0, lidGaps: 0 });
  expect(s.acknowledged).toBeGreaterThan(0);
}, 1_800_000);
