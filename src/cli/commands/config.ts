import type { Command } from 'commander';
import { renderConfigReference } from '../../config/reference';

export function registerConfig(program: Command): void {
  const config = program.command('config').description('Configuration');
  config
    .command('docs')
    .description('Print the configuration reference (Markdown)')
    .action(() => {
      process.stdout.write(renderConfigReference());
    });
}
