/**
 * The reference for sign-in: argon2id verifications alone, at Tessera's parameters, in a process
 * of their own, `CONCURRENCY` in flight for `MS` milliseconds (as many as the sign-in scenario's
 * users). Prints one JSON line: verifications, seconds, latencies (ms), CPU (µs) and its main
 * thread's part (/proc), RSS (bytes).
 */
import { hash, verify, type Algorithm } from '@node-rs/argon2';
import { ARGON2ID_PARAMS, BENCH_PASSWORD } from '../lib/constants.js';
import { drive, sampleProcess } from '../lib/load.js';

const stored = await hash(BENCH_PASSWORD, { algorithm: 2 as Algorithm.Argon2id, ...ARGON2ID_PARAMS });
const rssBefore = process.memoryUsage.rss();
const cpu = process.cpuUsage();
const mainBefore = sampleProcess(process.pid).mainThreadMicros;
const w = await drive(Number(process.env.CONCURRENCY ?? 8), Number(process.env.MS ?? 1000), async () => {
  if (!(await verify(stored, BENCH_PASSWORD))) throw new Error('the right password did not verify');
});
const used = process.cpuUsage(cpu);
const mainThreadMicros = sampleProcess(process.pid).mainThreadMicros - mainBefore;
const rssAfter = process.memoryUsage.rss();
process.stdout.write(
  `${JSON.stringify({ ...w, cpuMicros: used.user + used.system, mainThreadMicros, rssBefore, rssAfter })}\n`,
);
