import { spawn } from 'node:child_process';
import { WATCHDOG_SCRIPT } from './watchdog';

export interface RunResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs a short-lived tool, capturing its output. ENOENT (tool not on PATH) rejects.
 * `watchdog: true` runs it under the watchdog (see watchdog.ts) so that it dies with us: a
 * `mvn` left running after a kill -9 would keep writing into the jar cache.
 */
export function run(
  cmd: string,
  args: string[],
  opts: { cwd?: string; timeoutMs?: number; watchdog?: boolean } = {},
): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const [file, argv] = opts.watchdog
      ? ['sh', ['-c', WATCHDOG_SCRIPT, 'chariots-watchdog', '/dev/null', '3', '', cmd, ...args]]
      : [cmd, args];
    const child = spawn(file, argv, {
      cwd: opts.cwd,
      stdio: [opts.watchdog ? 'pipe' : 'ignore', 'pipe', 'pipe'],
    });
    child.stdin?.on('error', () => undefined);
    let stdout = '';
    let stderr = '';
    child.stdout?.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = opts.timeoutMs
      ? setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs).unref()
      : undefined;
    child.on('error', (e) => {
      if (timer) clearTimeout(timer);
      reject(e);
    });
    child.on('exit', () => child.stdin?.destroy()); // ends the watchdog's leftover `cat`
    child.on('close', (code) => {
      if (timer) clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/** True when `cmd` can be started (it is on PATH); used to say precisely what is missing. */
export async function hasTool(cmd: string, versionArgs: string[]): Promise<boolean> {
  try {
    await run(cmd, versionArgs, { timeoutMs: 30_000 });
    return true;
  } catch {
    return false;
  }
}

export function tail(text: string, lines = 40): string {
  return text.trimEnd().split('\n').slice(-lines).join('\n');
}
