import type { StageContext, StageHandle } from '../types';

export async function start(ctx: StageContext): Promise<StageHandle> {
  ctx.logger.child({ stage: 'sequencer' }).warn('stage not implemented yet');
  return { close: async () => undefined };
}
