import { Agent, request as httpRequest } from 'node:http';
import { summarize } from './stats';

export interface LoadRequest {
  method: string;
  path: string;
  headers?: Record<string, string>;
  body?: string;
}

export interface LoadOptions {
  /** http://127.0.0.1:port */
  url: string;
  /** Fixed number of keep-alive connections, each with one request in flight. */
  connections: number;
  warmupMs: number;
  durationMs: number;
  /** Builds request `seq` of connection `worker`. */
  request(worker: number, seq: number): LoadRequest;
  expectStatus?: number;
  /** Called right before and after the measured phase (e.g. to read the server's CPU time). */
  beforeMeasure?: () => Promise<void>;
  afterMeasure?: () => Promise<void>;
}

export interface LoadResult {
  requests: number;
  errors: number;
  statuses: Record<string, number>;
  firstError?: string;
  seconds: number;
  rps: number;
  p50: number;
  p99: number;
  max: number;
  mean: number;
  /** Response body bytes of the last answer, to size the baseline. */
  lastBodyBytes: number;
  /** CPU time of this (load generator) process during the measured phase, in % of one core. */
  clientCpu: number;
}

/**
 * A small closed-loop load generator: `connections` workers, each sending its next request on its
 * own keep-alive connection as soon as the previous answer has been read (like autocannon's
 * default pipelining of 1). A warm-up phase runs first and is not counted.
 */
export async function runLoad(options: LoadOptions): Promise<LoadResult> {
  const { hostname, port } = new URL(options.url);
  const agent = new Agent({ keepAlive: true, maxSockets: options.connections, maxFreeSockets: options.connections });
  const expect = options.expectStatus ?? 200;
  let seq = 0;
  const send = (worker: number) =>
    new Promise<{ status: number; ms: number; body: string }>((resolve, reject) => {
      const r = options.request(worker, seq++);
      const headers: Record<string, string | number> = { ...r.headers };
      if (r.body !== undefined) headers['content-length'] = Buffer.byteLength(r.body);
      const started = performance.now();
      const req = httpRequest({ agent, hostname, port, method: r.method, path: r.path, headers }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, ms: performance.now() - started, body: Buffer.concat(chunks).toString() }));
        res.on('error', reject);
      });
      req.on('error', reject);
      req.end(r.body);
    });

  async function phase(ms: number, record: boolean) {
    const latencies: number[] = [];
    const statuses: Record<string, number> = {};
    let errors = 0;
    let firstError: string | undefined;
    let lastBodyBytes = 0;
    const deadline = performance.now() + ms;
    const cpuBefore = process.cpuUsage();
    const started = performance.now();
    await Promise.all(
      Array.from({ length: options.connections }, async (_, worker) => {
        while (performance.now() < deadline) {
          try {
            const { status, ms: took, body } = await send(worker);
            if (!record) continue;
            statuses[status] = (statuses[status] ?? 0) + 1;
            if (status === expect) {
              latencies.push(took);
              lastBodyBytes = Buffer.byteLength(body);
            } else {
              errors++;
              firstError ??= `${status} ${body.slice(0, 300)}`;
            }
          } catch (error) {
            if (!record) continue;
            errors++;
            firstError ??= (error as Error).message;
          }
        }
      }),
    );
    const seconds = (performance.now() - started) / 1000;
    const cpu = process.cpuUsage(cpuBefore);
    return { latencies, statuses, errors, firstError, lastBodyBytes, seconds, clientCpu: ((cpu.user + cpu.system) / 1e6 / seconds) * 100 };
  }

  try {
    if (options.warmupMs > 0) await phase(options.warmupMs, false);
    await options.beforeMeasure?.();
    const m = await phase(options.durationMs, true);
    await options.afterMeasure?.();
    const s = summarize(m.latencies);
    return {
      requests: s.count,
      errors: m.errors,
      statuses: m.statuses,
      ...(m.firstError ? { firstError: m.firstError } : {}),
      seconds: m.seconds,
      rps: s.count / m.seconds,
      p50: s.p50,
      p99: s.p99,
      max: s.max,
      mean: s.mean,
      lastBodyBytes: m.lastBodyBytes,
      clientCpu: m.clientCpu,
    };
  } finally {
    agent.destroy();
  }
}
