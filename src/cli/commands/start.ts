import type { Command } from 'commander';
import { ChariotsError } from '../../errors';
import { rootLogger } from '../../logger';
import { runStages } from '../../runtime/run-stages';
import { STAGE_NAMES, type StageName } from '../../stages/types';
import { addConfigFlags, configFromFlags } from '../config-flags';
import { onShutdown } from '../shutdown';

export function registerStart(program: Command): void {
  addConfigFlags(
    program
      .command('start')
      .description(`Run one or more stages in this process (${STAGE_NAMES.join(', ')})`)
      .argument('<stages...>', 'stage names'),
  ).action(async (stages: string[], opts: Record<string, unknown>) => {
    for (const s of stages) {
      if (!STAGE_NAMES.includes(s as StageName)) {
        throw new ChariotsError(
          'CHARIOTS_ERR_UNKNOWN_STAGE',
          `unknown stage "${s}"; stages are: ${STAGE_NAMES.join(', ')}`,
        );
      }
    }
    const config = configFromFlags(opts);
    rootLogger.level = config.log.level;
    const running = await runStages(config, stages as StageName[], rootLogger);
    onShutdown(rootLogger, () => running.close());
  });
}
