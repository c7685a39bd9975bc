/**
 * `npm run bench`: the benchmark suite. Prints a table, or with `--json`
 * `{ benchmarks: [{ name, value, unit, peers? }] }` (DESIGN.md). Each figure is measured here, in
 * this run, against its peers; never compare absolute times across machines.
 *
 * Today: the engine's hold model. The Kafka-level benchmarks (time compression, records/s,
 * seeds/s, memory, scale) join as the model grows.
 */
import { fileURLToPath } from 'node:url';
import { runEngineBenchmark } from './engine.js';

export interface Benchmark {
  name: string;
  value: number;
  unit: string;
  peers?: Record<string, number>;
}

function engineBenchmarks(log?: (line: string) => void): Benchmark[] {
  const results = runEngineBenchmark({ log });
  const out: Benchmark[] = [];
  for (const pending of [...new Set(results.map((r) => r.pending))]) {
    const at = results.filter((r) => r.pending === pending);
    const ours = at.find((r) => r.impl === 'kafkaesque')!;
    const peers: Record<string, number> = {};
    for (const r of at) if (!r.impl.startsWith('kafkaesque')) peers[r.impl] = r.eventsPerSec;
    out.push({ name: `engine hold model, ${pending} pending`, value: ours.eventsPerSec, unit: 'events/s', peers });
    const sim = at.find((r) => r.impl === 'kafkaesque-simulator');
    if (sim) out.push({ name: `engine simulator dispatch, ${pending} pending`, value: sim.eventsPerSec, unit: 'events/s' });
  }
  return out;
}

function main(args: string[]): void {
  const json = args.includes('--json');
  const log = json ? undefined : (line: string) => process.stdout.write(`${line}\n`);
  const benchmarks = engineBenchmarks(log);
  if (json) {
    process.stdout.write(`${JSON.stringify({ benchmarks })}\n`);
    return;
  }
  log?.('');
  for (const b of benchmarks) {
    const best = b.peers ? Object.entries(b.peers).reduce((a, c) => (c[1] > a[1] ? c : a)) : undefined;
    const ratio = best ? `  ${(b.value / best[1]).toFixed(2)}x ${best[0]}` : '';
    log?.(`${b.name.padEnd(44)} ${(b.value / 1e6).toFixed(2).padStart(8)} M ${b.unit}${ratio}`);
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) main(process.argv.slice(2));
