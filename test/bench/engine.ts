/**
 * `npm run bench:engine`: the hold model (Jones 1986), the classic benchmark for event sets.
 * Keep N events pending; repeatedly pop the earliest and push one at now + Exp(1 s). We run it
 * at N = 10^4 and 10^6 with 2M operations, for our EventQueue and, in the same run, for the
 * binary heaps people reach for in JavaScript. Every implementation stores an event (a time
 * and an id); ours also breaks ties first-in first-out and cancels in O(1), which the peers
 * do not. Each measurement runs in its own child process
 * (so one implementation's JIT state cannot help or hurt another) and the median of the
 * repetitions is reported. Only ratios measured in one run mean anything; machines are noisy.
 *
 *   npm run bench:engine                    a table
 *   npm run --silent bench:engine -- --json { results: [{ impl, pending, eventsPerSec }] }
 *   options: --ops 2000000 --reps 3 --pending 10000,1000000
 */
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import FastPriorityQueue from 'fastpriorityqueue';
import FlatQueue from 'flatqueue';
import { Heap } from 'heap-js';
import TinyQueue from 'tinyqueue';
import { EventQueue } from '../../src/engine/event-queue.js';
import { Simulator, type EventTarget } from '../../src/engine/simulator.js';
import { Random } from '../../src/engine/random.js';

export const IMPLS = ['kafkaesque', 'flatqueue', 'fastpriorityqueue', 'heap-js', 'tinyqueue', 'kafkaesque-simulator'] as const;
export type Impl = (typeof IMPLS)[number];

export interface EngineResult {
  impl: Impl;
  pending: number;
  eventsPerSec: number;
}

/** The same increments for every implementation: integer microseconds, Exp(mean 1 s). */
function increments(count: number): Float64Array {
  const rng = Random.fromSeed('hold-model');
  const out = new Float64Array(count);
  for (let i = 0; i < count; i++) out[i] = Math.round(rng.exponential(1_000_000));
  return out;
}

/**
 * What a peer stores: an event queue must hand back which event is due, not only when, so each
 * peer holds an event (time and id). The popped object is reused for the next push, so the
 * measurement does not include allocation. flatqueue keeps ids and priorities natively.
 */
interface PeerEvent {
  timeUs: number;
  id: number;
}

const INC_COUNT = 1 << 20;
const INC_MASK = INC_COUNT - 1;

/** Runs one hold model and returns operations (pop + push) per second. */
function hold(impl: Impl, pending: number, ops: number): number {
  const inc = increments(INC_COUNT);
  let k = 0;
  let now = 0;
  let start = 0n;
  switch (impl) {
    case 'kafkaesque': {
      const q = new EventQueue(pending + 16);
      for (let i = 0; i < pending; i++) q.push(inc[k++ & INC_MASK]);
      start = process.hrtime.bigint();
      for (let i = 0; i < ops; i++) {
        q.pop();
        now = q.lastPoppedUs;
        q.push(now + inc[k++ & INC_MASK]);
      }
      break;
    }
    case 'kafkaesque-simulator': {
      // The whole engine path: schedule, pop, trace hash, dispatch to a target.
      const sim = new Simulator({ seed: 1 });
      let left = ops;
      const target: EventTarget = {
        traceId: sim.allocateTraceId(),
        handleEvent(kind: number) {
          if (--left >= 0) sim.scheduleAfter(inc[k++ & INC_MASK], target, kind);
        },
      };
      for (let i = 0; i < pending; i++) sim.schedule(inc[k++ & INC_MASK], target, 0);
      start = process.hrtime.bigint();
      sim.runUntil({ events: ops });
      break;
    }
    case 'flatqueue': {
      const q = new FlatQueue<number>();
      for (let i = 0; i < pending; i++) q.push(i, inc[k++ & INC_MASK]);
      start = process.hrtime.bigint();
      for (let i = 0; i < ops; i++) {
        now = q.peekValue() as number;
        const id = q.pop() as number;
        q.push(id, now + inc[k++ & INC_MASK]);
      }
      break;
    }
    case 'fastpriorityqueue': {
      const q = new FastPriorityQueue<PeerEvent>((a, b) => a.timeUs < b.timeUs);
      for (let i = 0; i < pending; i++) q.add({ timeUs: inc[k++ & INC_MASK], id: i });
      start = process.hrtime.bigint();
      for (let i = 0; i < ops; i++) {
        const e = q.poll() as PeerEvent;
        e.timeUs += inc[k++ & INC_MASK];
        q.add(e);
      }
      break;
    }
    case 'heap-js': {
      const q = new Heap<PeerEvent>((a, b) => a.timeUs - b.timeUs);
      for (let i = 0; i < pending; i++) q.push({ timeUs: inc[k++ & INC_MASK], id: i });
      start = process.hrtime.bigint();
      for (let i = 0; i < ops; i++) {
        const e = q.pop() as PeerEvent;
        e.timeUs += inc[k++ & INC_MASK];
        q.push(e);
      }
      break;
    }
    case 'tinyqueue': {
      const q = new TinyQueue<PeerEvent>([], (a, b) => a.timeUs - b.timeUs);
      for (let i = 0; i < pending; i++) q.push({ timeUs: inc[k++ & INC_MASK], id: i });
      start = process.hrtime.bigint();
      for (let i = 0; i < ops; i++) {
        const e = q.pop() as PeerEvent;
        e.timeUs += inc[k++ & INC_MASK];
        q.push(e);
      }
      break;
    }
  }
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  return ops / seconds;
}

function argValue(args: string[], name: string, fallback: string): string {
  const i = args.indexOf(name);
  return i >= 0 && i + 1 < args.length ? args[i + 1] : fallback;
}

function positiveInt(text: string, what: string): number {
  const n = Number(text);
  if (!Number.isSafeInteger(n) || n <= 0) {
    process.stderr.write(`bench:engine: ${what} must be a positive integer, got ${text}\n`);
    process.exit(2);
  }
  return n;
}

/** Runs every implementation at every size, each in a fresh process, and returns the medians. */
export function runEngineBenchmark(options: { ops?: number; reps?: number; pending?: number[]; log?: (line: string) => void } = {}): EngineResult[] {
  const ops = options.ops ?? 2_000_000;
  const reps = options.reps ?? 3;
  const sizes = options.pending ?? [10_000, 1_000_000];
  const self = fileURLToPath(import.meta.url);
  const results: EngineResult[] = [];
  for (const pending of sizes) {
    for (const impl of IMPLS) {
      const samples: number[] = [];
      for (let r = 0; r < reps; r++) {
        const out = execFileSync(process.execPath, [self, '--child', impl, String(pending), String(ops)], { encoding: 'utf8' });
        samples.push(Number(out.trim()));
      }
      samples.sort((a, b) => a - b);
      const eventsPerSec = samples[Math.floor(samples.length / 2)];
      options.log?.(`  ${impl.padEnd(22)} N=${String(pending).padEnd(8)} ${(eventsPerSec / 1e6).toFixed(2)} M events/s`);
      results.push({ impl, pending, eventsPerSec: Math.round(eventsPerSec) });
    }
  }
  return results;
}

/** Our queue's ratio to the fastest peer (the simulator row is ours too, not a peer). */
export function ratioToFastestPeer(results: EngineResult[], pending: number): { ratio: number; peer: string } {
  const ours = results.find((r) => r.impl === 'kafkaesque' && r.pending === pending)!;
  const peers = results.filter((r) => r.pending === pending && !r.impl.startsWith('kafkaesque'));
  const best = peers.reduce((a, b) => (b.eventsPerSec > a.eventsPerSec ? b : a));
  return { ratio: ours.eventsPerSec / best.eventsPerSec, peer: best.impl };
}

function main(args: string[]): void {
  if (args[0] === '--child') {
    const impl = args[1] as Impl;
    if (!IMPLS.includes(impl)) throw new Error(`unknown implementation ${impl}`);
    process.stdout.write(`${hold(impl, Number(args[2]), Number(args[3]))}\n`);
    return;
  }
  const json = args.includes('--json');
  const ops = positiveInt(argValue(args, '--ops', '2000000'), '--ops');
  const reps = positiveInt(argValue(args, '--reps', '3'), '--reps');
  const pending = argValue(args, '--pending', '10000,1000000').split(',').map((s) => positiveInt(s, '--pending'));
  const log = json ? undefined : (line: string) => process.stdout.write(`${line}\n`);
  log?.(`hold model: ${ops} operations, median of ${reps} runs, each in its own process (node ${process.version})`);
  const results = runEngineBenchmark({ ops, reps, pending, log });
  if (json) {
    process.stdout.write(`${JSON.stringify({ results })}\n`);
    return;
  }
  for (const n of pending) {
    const { ratio, peer } = ratioToFastestPeer(results, n);
    log?.(`N=${n}: kafkaesque EventQueue is ${ratio.toFixed(2)}x the fastest peer (${peer}), with FIFO ties and O(1) cancel`);
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) main(process.argv.slice(2));
