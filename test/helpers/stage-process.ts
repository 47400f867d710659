/**
 * Runs `chariots start <stage>` as a real child process (TypeScript through tsx, so no build
 * is needed), so tests can kill -9 it at any moment and start it again.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { cliArgs, ROOT } from './cli';

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const addr = s.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      s.close(() => resolve(port));
    });
  });
}

export class StageProcess {
  private child: ChildProcess | undefined;
  private output = '';
  starts = 0;

  constructor(
    readonly stage: string,
    private readonly env: Record<string, string>,
  ) {}

  /** Starts the process and resolves once it logged that the stage started. */
  async start(timeoutMs = 60000): Promise<void> {
    const child = spawn(process.execPath, cliArgs(['start', this.stage]), {
      cwd: ROOT,
      env: { ...process.env, CHARIOTS_LOG_LEVEL: 'info', ...this.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child = child;
    this.starts++;
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () =>
          reject(
            new Error(
              `${this.stage} did not start in ${timeoutMs} ms:\n${this.output.slice(-3000)}`,
            ),
          ),
        timeoutMs,
      );
      const onData = (d: Buffer) => {
        this.output = (this.output + d.toString()).slice(-5000000);
        if (this.output.split('"msg":"stage started"').length > this.starts) {
          clearTimeout(timer);
          resolve();
        }
      };
      child.stdout?.on('data', onData);
      child.stderr?.on('data', onData);
      child.once('exit', (code) => {
        clearTimeout(timer);
        reject(
          new Error(
            `${this.stage} exited with ${code} before starting:\n${this.output.slice(-3000)}`,
          ),
        );
      });
    });
  }

  /** The child's pid (for /proc sampling); undefined before start. */
  get pid(): number | undefined {
    return this.child?.pid;
  }

  get logs(): string {
    return this.output;
  }

  /** SIGKILL: no cleanup, no commit — the crash the guarantees must survive. */
  async kill(signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    const c = this.child;
    if (!c || c.exitCode !== null || c.signalCode !== null) return;
    await new Promise<void>((resolve) => {
      c.once('exit', () => resolve());
      c.kill(signal);
    });
  }

  /** SIGSTOP for `ms`, then SIGCONT: a process that freezes past its session timeout (a zombie). */
  async pause(ms: number): Promise<void> {
    const c = this.child;
    if (!c || c.exitCode !== null || c.signalCode !== null) return;
    c.kill('SIGSTOP');
    try {
      await new Promise((r) => setTimeout(r, ms));
    } finally {
      c.kill('SIGCONT');
    }
  }

  async stop(): Promise<void> {
    await this.kill('SIGTERM');
  }
}
