// Benchmark of the built Worker under workerd (Miniflare serving on loopback), printing:
//  - client_credentials: requests/s and p50/p99 latency over a fixed request count, and the
//    workerd CPU time per request (utime+stime of the workerd process / requests);
//  - the CPU cost of one ES256 signature inside the Worker (WebCrypto), from the CPU time of
//    a measurement route that signs N times, minus the same route signing 0 times;
//  - cold start: from starting workerd to the first token response;
//  - the deployable bundle's size, raw and gzip (from `wrangler deploy --dry-run`).
// Run with `make bench`. It is a measurement, not a test: it asserts nothing.
import autocannon from 'autocannon';
import { execFileSync } from 'node:child_process';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { startIssuer, basic, M2M } from '../tests/e2e/harness.mjs';

const REQUESTS = Number(process.env.BENCH_REQUESTS ?? 5000);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 8);
const PORT = Number(process.env.BENCH_PORT ?? 8799);
const SIGNATURES = 2000;
const TICKS = Number(execFileSync('getconf', ['CLK_TCK']).toString().trim());

function workerdPids() {
  const out = execFileSync('ps', ['-eo', 'pid=,ppid=,comm=']).toString();
  const rows = out.trim().split('\n').map((l) => l.trim().split(/\s+/));
  const mine = new Set([String(process.pid)]);
  let grew = true;
  while (grew) {
    grew = false;
    for (const [pid, ppid] of rows) if (mine.has(ppid) && !mine.has(pid)) (mine.add(pid), (grew = true));
  }
  return rows.filter(([pid, , comm]) => mine.has(pid) && comm.startsWith('workerd')).map(([pid]) => pid);
}

/** CPU seconds (user + system) used so far by the workerd processes under this one. */
function workerdCpu() {
  let ticks = 0;
  for (const pid of workerdPids()) {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    ticks += Number(fields[11]) + Number(fields[12]);
  }
  return ticks / TICKS;
}

async function load(url, opts) {
  const start = performance.now();
  const result = await autocannon({ url, connections: CONNECTIONS, amount: REQUESTS, ...opts });
  result.rps = (result.requests.total / (performance.now() - start)) * 1000;
  return result;
}

const t0 = performance.now();
const iss = await startIssuer({ port: PORT, bindings: { BENCH: '1' } });
const tokenOpts = {
  method: 'POST',
  headers: {
    'content-type': 'application/x-www-form-urlencoded',
    authorization: basic(M2M.id, M2M.secret),
  },
  body: 'grant_type=client_credentials&audience=https%3A%2F%2Fapi.example.com',
};
const first = await fetch(`${iss.issuer}/oauth/token`, tokenOpts);
const coldMs = performance.now() - t0;
if (first.status !== 200) throw new Error(`token request failed: ${first.status} ${await first.text()}`);

try {
  // Warm up, then measure.
  await load(`${iss.issuer}/oauth/token`, { ...tokenOpts, amount: 500 });
  const cpu0 = workerdCpu();
  const cc = await load(`${iss.issuer}/oauth/token`, tokenOpts);
  const ccCpu = workerdCpu() - cpu0;
  if (cc.non2xx) throw new Error(`${cc.non2xx} non-2xx responses`);

  // One signature: route cost at n=SIGNATURES minus at n=0, five requests each.
  const signRuns = async (n) => {
    const c = workerdCpu();
    for (let i = 0; i < 5; i++) await (await fetch(`${iss.issuer}/__bench/sign?n=${n}`)).arrayBuffer();
    return workerdCpu() - c;
  };
  await signRuns(10);
  const base = await signRuns(0);
  const signed = await signRuns(SIGNATURES);
  const perSignatureUs = ((signed - base) / (5 * SIGNATURES)) * 1e6;

  const bundleDir = 'bench-results/bundle';
  const files = readdirSync(bundleDir).filter((f) => /\.(js|wasm)$/.test(f));
  const raw = files.reduce((n, f) => n + statSync(join(bundleDir, f)).size, 0);
  const gz = files.reduce((n, f) => n + gzipSync(readFileSync(join(bundleDir, f)), { level: 9 }).length, 0);

  const line = (k, v) => console.log(`${k.padEnd(44)} ${v}`);
  console.log(`edge-issuer bench: ${REQUESTS} requests, ${CONNECTIONS} connections, loopback, workerd via Miniflare`);
  line('client_credentials requests/s', cc.rps.toFixed(0));
  line('client_credentials latency p50 / p99 (ms)', `${cc.latency.p50} / ${cc.latency.p99}`);
  line('client_credentials workerd CPU per request (µs)', ((ccCpu / REQUESTS) * 1e6).toFixed(0));
  line('ES256 signature inside the Worker (µs)', perSignatureUs.toFixed(1));
  line('cold start to first token (ms)', coldMs.toFixed(0));
  line('bundle raw / gzip (KiB)', `${(raw / 1024).toFixed(1)} / ${(gz / 1024).toFixed(1)}`);
} finally {
  await iss.mf.dispose();
}
