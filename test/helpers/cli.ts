/**
 * Runs the chariots CLI from source as a child process: node with tsx (no build needed), in
 * the repository root. Tests and benchmarks run commands (rebuild, replay, verify) this way.
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';

export const ROOT = join(__dirname, '..', '..');

/**
 * node's arguments for `chariots <args…>`: from source, or from `dist/` when
 * CHARIOTS_TEST_FROM_DIST=1 (the long chaos run restarts stages ~150 times; tsx costs each
 * start ~0.8 s more CPU on this machine, taken from the stages under test). The caller
 * builds first (`npm run test:chaos` does).
 */
export const cliArgs = (args: string[]): string[] =>
  process.env.CHARIOTS_TEST_FROM_DIST === '1'
    ? [join(ROOT, 'dist', 'cli', 'index.js'), ...args]
    : ['--import', 'tsx', join(ROOT, 'src', 'cli', 'index.ts'), ...args];

/** Runs one command to its end and collects its output (asynchronously, so stages in this process keep running). */
export async function runCli(
  args: string[],
  env: Record<string, string>,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, cliArgs(args), {
    cwd: ROOT,
    env: { ...process.env, CHARIOTS_LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
  return { code, stdout, stderr };
}
