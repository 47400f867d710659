import { Command } from 'commander';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { isChariotsError } from '../errors';
import { rootLogger } from '../logger';
import { registerConfig } from './commands/config';
import { registerDev } from './commands/dev';
import { registerStart } from './commands/start';
import { registerRebuild } from './commands/rebuild';
import { registerReplay } from './commands/replay';
import { registerTopics } from './commands/topics';
import { registerVerify } from './commands/verify';
import { registerClientCommands } from './commands/client-commands';

export function buildProgram(): Command {
  const program = new Command('chariots')
    .description('A causally ordered shared log on Kafka')
    .version(
      (
        JSON.parse(readFileSync(join(__dirname, '..', '..', 'package.json'), 'utf8')) as {
          version: string;
        }
      ).version,
    )
    .showHelpAfterError();
  registerDev(program);
  registerStart(program);
  registerTopics(program);
  registerConfig(program);
  registerReplay(program);
  registerRebuild(program);
  registerVerify(program);
  registerClientCommands(program);
  return program;
}

/** Errors end the process with their code on stderr and a non-zero exit status. */
export async function main(argv = process.argv): Promise<void> {
  try {
    await buildProgram().parseAsync(argv);
  } catch (e) {
    if (isChariotsError(e)) {
      rootLogger.error({ code: e.code, details: e.details }, e.message);
      process.stderr.write(`chariots: ${e.code}: ${e.message}\n`);
    } else {
      rootLogger.error({ err: e }, 'failed');
      process.stderr.write(`chariots: ${(e as Error).message}\n`);
    }
    process.exitCode = 1;
  }
}

if (require.main === module) void main();
