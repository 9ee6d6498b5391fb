/**
 * A small HTTP load generator, run in its own process (forked by bench/query.ts) so it never shares
 * the server's event loop: N workers on keep-alive connections, each sending its next request as
 * soon as the previous answer is read. Warm up, then measure; report queries/s and latency
 * percentiles to the parent over IPC.
 */
import { randomUUID } from 'node:crypto';
import http from 'node:http';
import { percentile } from './load-figures.ts';

export interface LoadRequest {
  path: string;
  headers: Record<string, string>;
  /** GET unless said; a body is sent as given (set its content-type in `headers`). */
  method?: 'GET' | 'POST';
  body?: string;
}

export interface LoadPlan {
  /** e.g. http://127.0.0.1:8080 */
  base: string;
  /** Requests to cycle through (each worker starts at a different place). */
  requests: LoadRequest[];
  connections: number;
  warmupMs: number;
  durationMs: number;
  /** Give each request a fresh X-Request-ID. */
  requestIds: boolean;
  /** Time to the first byte of the answer (its status line) instead of to its last byte. */
  ttfb?: boolean;
  /** Measure until `stopped` resolves (the parent says stop) instead of for `durationMs`. */
  untilStopped?: boolean;
}

export interface LoadResult {
  requests: number;
  errors: number;
  statuses: Record<string, number>;
  seconds: number;
  qps: number;
  p50: number;
  p99: number;
  max: number;
  /** Each second of the measured window (by when a request was sent): answers and their p99. */
  perSecond: { n: number; p99: number }[];
  /** Every measured latency, in ms, so runs can be put together (combined). */
  latencies: number[];
}

/** Send one request; the answer's status and when its first byte arrived (performance.now()). */
function once(
  agent: http.Agent,
  base: URL,
  req: LoadRequest,
  requestIds: boolean,
): Promise<{ status: number; firstByteAt: number }> {
  return new Promise((resolve, reject) => {
    const headers = requestIds ? { ...req.headers, 'x-request-id': randomUUID() } : req.headers;
    const r = http.request(
      { agent, host: base.hostname, port: base.port, path: req.path, method: req.method ?? 'GET', headers },
      (res) => {
        const firstByteAt = performance.now();
        res.on('data', () => {});
        res.on('end', () => resolve({ status: res.statusCode ?? 0, firstByteAt }));
        res.on('error', reject);
      },
    );
    r.on('error', reject);
    r.end(req.body);
  });
}

export async function runLoad(
  plan: LoadPlan,
  stopped?: Promise<void>,
  onMeasuring?: () => void,
): Promise<LoadResult> {
  const base = new URL(plan.base);
  const agent = new http.Agent({ keepAlive: true, maxSockets: plan.connections });
  const latencies: number[] = [];
  const sentAt: number[] = [];
  let measuredFrom = 0;
  const statuses: Record<string, number> = {};
  let errors = 0;
  let measuring = false;
  let stop = false;
  let counter = 0;
  const worker = async (w: number) => {
    let i = (w * 7919) % plan.requests.length;
    while (!stop) {
      const req = plan.requests[i]!;
      i = (i + 1) % plan.requests.length;
      const started = performance.now();
      // A request counts if it was sent while measuring, however late its answer comes (a stalled
      // request must show in the latencies, not vanish at the end of the window).
      const counted = measuring;
      try {
        const { status, firstByteAt } = await once(agent, base, req, plan.requestIds);
        if (counted) {
          latencies.push((plan.ttfb ? firstByteAt : performance.now()) - started);
          sentAt.push(started - measuredFrom);
          statuses[status] = (statuses[status] ?? 0) + 1;
          counter++;
        }
      } catch {
        if (counted) errors++;
      }
    }
  };
  const workers = Array.from({ length: plan.connections }, (_, w) => worker(w));
  await new Promise((r) => setTimeout(r, plan.warmupMs));
  measuredFrom = performance.now();
  measuring = true;
  onMeasuring?.();
  const started = measuredFrom;
  await (plan.untilStopped && stopped ? stopped : new Promise((r) => setTimeout(r, plan.durationMs)));
  measuring = false;
  stop = true;
  await Promise.all(workers);
  const seconds = (performance.now() - started) / 1000;
  agent.destroy();
  const sorted = Float64Array.from(latencies).sort();
  const seconds_: number[][] = [];
  latencies.forEach((l, i) => {
    const sec = Math.max(0, Math.floor(sentAt[i]! / 1000));
    const bucket = seconds_[sec] ?? [];
    bucket.push(l);
    seconds_[sec] = bucket;
  });
  const perSecond = Array.from(seconds_, (ls) => {
    const s = Float64Array.from(ls ?? []).sort();
    return { n: s.length, p99: percentile(s, 99) };
  });
  return {
    requests: counter,
    errors,
    statuses,
    seconds,
    qps: counter / seconds,
    p50: percentile(sorted, 50),
    p99: percentile(sorted, 99),
    max: sorted.length ? sorted[sorted.length - 1]! : 0,
    perSecond,
    latencies,
  };
}

// Forked by bench/query.ts: one plan in, one result out.
if (process.send) {
  // Never outlive the bench that forked us.
  process.once('disconnect', () => process.exit(0));
  let stop: () => void = () => {};
  const stopped = new Promise<void>((resolve) => {
    stop = resolve;
  });
  process.once('message', (plan: LoadPlan) => {
    process.on('message', (m: { stop?: boolean }) => {
      if (m?.stop) stop();
    });
    runLoad(plan, stopped, () => process.send!({ measuring: true })).then(
      (result) => process.send!({ ok: true, result }, () => process.exit(0)),
      (err: Error) => process.send!({ ok: false, error: err.stack ?? String(err) }, () => process.exit(1)),
    );
  });
}
