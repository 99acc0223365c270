import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/**
 * The server under test runs in its own process, so the load generator (this process) and the
 * server each have a core, as with autocannon, and the server's memory is measured alone.
 */
export class BenchChild {
  readonly #child: ChildProcess;
  #next = 0;
  readonly #pending = new Map<number, { resolve(value: any): void; reject(error: Error): void }>();
  #exited = false;

  constructor(name: string) {
    this.#child = fork(fileURLToPath(new URL('./server-child.ts', import.meta.url)), [name], {
      // BENCH_PROFILE=1 writes a V8 CPU profile of each server process to bench/results/profiles/.
      execArgv: ['--import', 'tsx', '--expose-gc', ...(process.env.BENCH_PROFILE ? ['--cpu-prof', '--cpu-prof-dir=bench/results/profiles'] : [])],
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    this.#child.on('message', (message: { id: number; result?: unknown; error?: string }) => {
      const waiting = this.#pending.get(message.id);
      this.#pending.delete(message.id);
      if (message.error !== undefined) waiting?.reject(new Error(`${name}: ${message.error}`));
      else waiting?.resolve(message.result);
    });
    this.#child.on('exit', (code) => {
      this.#exited = true;
      for (const waiting of this.#pending.values()) waiting.reject(new Error(`${name} exited with code ${code}`));
      this.#pending.clear();
    });
  }

  call<T = any>(cmd: string, args: Record<string, unknown> = {}, timeoutMs = 60_000): Promise<T> {
    if (this.#exited) return Promise.reject(new Error('bench child has exited'));
    const id = this.#next++;
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#pending.delete(id);
        reject(new Error(`bench child: ${cmd} took more than ${timeoutMs} ms`));
      }, timeoutMs);
      this.#pending.set(id, {
        resolve: (v) => (clearTimeout(timer), resolve(v)),
        reject: (e) => (clearTimeout(timer), reject(e)),
      });
      this.#child.send({ id, cmd, args });
    });
  }

  /** Closes the server and waits for the process to end (killing it after 10 s). */
  async stop(): Promise<void> {
    if (this.#exited) return;
    const exited = new Promise<void>((resolve) => this.#child.once('exit', () => resolve()));
    await this.call('stop', {}, 10_000).catch(() => {});
    const timer = setTimeout(() => this.#child.kill('SIGKILL'), 10_000);
    await exited;
    clearTimeout(timer);
  }
}
