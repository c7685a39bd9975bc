import { existsSync, readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { extname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { Document, parse as parseYaml, YAMLMap, YAMLSeq } from 'yaml';
import { SimulationError } from '../engine/errors.js';
import { DEFAULT_MAX_DURATION_MS, DEFAULT_MAX_FAULTS, DEFAULT_MEAN_INTERVAL_MS, DEFAULT_NEMESIS_KINDS, drawFaultSchedule, toScenarioFaults, type FaultScheduleOptions, type FaultSpec } from '../faults/random-nemesis.js';
import { shrinkSchedule } from '../faults/shrink.js';
import type { Scenario } from '../scenario/load.js';
import type { ParsedFault } from '../scenario/schema.js';
import { simulate } from '../scenario/simulate.js';
import { tpKey } from '../kafka/protocol/topic-partition.js';

/**
 * The `check` search: each seed draws a random fault schedule from the scenario's `nemesis:`
 * section, runs the scenario with it (on top of the scripted `faults:`), and compares what it
 * found with `expect:`. Seeds run in worker threads; results are keyed by seed and sorted, so
 * they are the same whatever the number of workers. The lowest failing seed is then shrunk.
 */

const DEFAULT_DURATION_US = 30_000_000;

/** One check's findings in a run: how many, and the first. */
export interface FindingSummary {
  check: string;
  count: number;
  atMs: number;
  partition?: string;
  offset?: number;
  message: string;
  /** The configuration that permits this check's findings (from the first one), if any. */
  permitted?: string;
}

/** What one seed did. */
export interface SeedOutcome {
  seed: number;
  verdict: 'pass' | 'fail';
  /** Checks found but not expected, and `!check` for checks expected but not found. */
  mismatches: string[];
  violations: FindingSummary[];
  faults: FaultSpec[];
  traceHash: string;
  wallMs: number;
}

/** The random schedule options a scenario's `nemesis:` section (or the defaults) gives. */
export function nemesisOptions(scenario: Scenario): FaultScheduleOptions {
  const n = scenario.nemesis ?? {};
  const durationUs = scenario.duration ?? DEFAULT_DURATION_US;
  const stopUs = n.window?.stop ?? durationUs;
  // By default faults start after a tenth of the window: the cluster has formed by then.
  const startUs = n.window?.start ?? Math.min(Math.floor(durationUs / 10), stopUs - 1_000);
  const partitions = (scenario.topics ?? []).flatMap((t) => Array.from({ length: Math.min(t.partitions, 64) }, (_, p) => tpKey(t.name, p)));
  return {
    brokers: scenario.cluster.brokers,
    partitions,
    producers: (scenario.producers ?? []).length > 0,
    kinds: n.kinds ?? DEFAULT_NEMESIS_KINDS,
    meanIntervalMs: n.meanIntervalMs ?? DEFAULT_MEAN_INTERVAL_MS,
    maxFaults: n.maxFaults ?? DEFAULT_MAX_FAULTS,
    maxDurationMs: n.maxDurationMs ?? DEFAULT_MAX_DURATION_MS,
    window: { startMs: Math.max(0, Math.floor(startUs / 1000)), stopMs: Math.floor(stopUs / 1000) },
  };
}

/** The schedule seed `seed` draws for this scenario. */
export function scheduleFor(scenario: Scenario, seed: number): FaultSpec[] {
  const options = nemesisOptions(scenario);
  // A fault window under a millisecond has no room for a fault.
  if (options.window.stopMs <= options.window.startMs) return [];
  return drawFaultSchedule(options, seed);
}

/** The scenario with drawn faults after its scripted ones (the order `counterexample.yaml` keeps). */
export function withFaults(scenario: Scenario, faults: readonly FaultSpec[]): Scenario {
  return { ...scenario, faults: [...(scenario.faults ?? []), ...(faults as ParsedFault[])] };
}

/** Runs one seed: its own drawn schedule, or `faults` when given (shrinking, replay). */
export function runSeed(scenario: Scenario, seed: number, faults?: readonly FaultSpec[]): SeedOutcome {
  const schedule = faults === undefined ? scheduleFor(scenario, seed) : [...faults];
  const started = performance.now(); // statistics only
  // No report recording: a search keeps only the findings (the counterexample's report re-runs it).
  const { detail: _detail, ...r } = simulate(withFaults(scenario, schedule), { seed, record: false });
  const byCheck = new Map<string, FindingSummary>();
  for (const v of r.violations) {
    const s = byCheck.get(v.check);
    if (s !== undefined) s.count++;
    else {
      byCheck.set(v.check, {
        check: v.check,
        count: 1,
        atMs: v.atMs,
        ...(v.partition !== undefined ? { partition: v.partition } : {}),
        ...(v.offset !== undefined ? { offset: v.offset } : {}),
        message: v.message,
        ...(v.permitted !== undefined ? { permitted: v.permitted } : {}),
      });
    }
  }
  const allowed = scenario.allow ?? [];
  const mismatches = [...[...byCheck.keys()].filter((c) => !r.expected.includes(c) && !allowed.includes(c as never)), ...r.expected.filter((c) => !byCheck.has(c)).map((c) => `!${c}`)].sort();
  return { seed, verdict: r.verdict, mismatches, violations: [...byCheck.values()], faults: schedule, traceHash: r.traceHash, wallMs: performance.now() - started };
}

export interface Job {
  seed: number;
  faults?: FaultSpec[];
}

/** Runs jobs, in this thread or in worker threads. */
export interface Executor {
  readonly size: number;
  run(job: Job): Promise<SeedOutcome>;
  close(): Promise<void>;
}

const yieldToEventLoop = () => new Promise<void>((resolve) => setImmediate(resolve));

/** One job at a time in this thread, yielding between jobs so SIGINT can be handled. */
export class InProcessExecutor implements Executor {
  readonly size = 1;
  constructor(private readonly scenario: Scenario) {}
  async run(job: Job): Promise<SeedOutcome> {
    await yieldToEventLoop();
    return runSeed(this.scenario, job.seed, job.faults);
  }
  async close(): Promise<void> {}
}

/** Where the worker's compiled script is: beside this file, or in dist/ when running from source. */
export function workerScript(): URL {
  const here = new URL('./check-worker.js', import.meta.url);
  if (!import.meta.url.endsWith('.ts')) return here;
  // Running from TypeScript source (vitest): use the build.
  const built = new URL(import.meta.url.replace(/\/src\/cli\/search\.ts$/, '/dist/src/cli/check-worker.js'));
  if (!existsSync(fileURLToPath(built))) throw new SimulationError('--workers above 1 needs the compiled worker: run npm run build');
  return built;
}

interface Pending {
  resolve: (o: SeedOutcome) => void;
  reject: (e: Error) => void;
}

/** A pool of worker threads, each holding the scenario and running one job at a time. */
export class WorkerExecutor implements Executor {
  private readonly idle: Worker[] = [];
  private readonly waiting: (() => void)[] = [];
  private readonly pending = new Map<Worker, Pending>();
  private readonly all: Worker[] = [];
  private failure: Error | undefined;

  constructor(
    scenario: Scenario,
    readonly size: number,
  ) {
    const script = workerScript();
    for (let i = 0; i < size; i++) {
      const w = new Worker(script, { workerData: { scenario } });
      w.on('message', (msg: { outcome?: SeedOutcome; error?: { name: string; message: string; stack?: string } }) => {
        const p = this.pending.get(w);
        this.pending.delete(w);
        this.release(w);
        if (p === undefined) return;
        if (msg.outcome !== undefined) p.resolve(msg.outcome);
        else {
          const e = msg.error?.name === 'SimulationError' ? new SimulationError(msg.error.message) : Object.assign(new Error(msg.error?.message), { stack: msg.error?.stack });
          p.reject(e);
        }
      });
      w.on('error', (e) => {
        // A worker that died takes the pool down: fail its job and wake every waiting one.
        this.failure = e;
        this.pending.get(w)?.reject(e);
        this.pending.delete(w);
        for (const wake of this.waiting.splice(0)) wake();
      });
      this.all.push(w);
      this.idle.push(w);
    }
  }

  private release(w: Worker): void {
    const next = this.waiting.shift();
    this.idle.push(w);
    next?.();
  }

  async run(job: Job): Promise<SeedOutcome> {
    if (this.failure !== undefined) throw this.failure;
    while (this.idle.length === 0) {
      await new Promise<void>((resolve) => this.waiting.push(resolve));
      if (this.failure !== undefined) throw this.failure;
    }
    const w = this.idle.shift() as Worker;
    return new Promise<SeedOutcome>((resolve, reject) => {
      this.pending.set(w, { resolve, reject });
      w.postMessage(job);
    });
  }

  async close(): Promise<void> {
    await Promise.all(this.all.map((w) => w.terminate()));
  }
}

export function defaultWorkers(): number {
  return availableParallelism();
}

export function makeExecutor(scenario: Scenario, workers: number): Executor {
  return workers <= 1 ? new InProcessExecutor(scenario) : new WorkerExecutor(scenario, workers);
}

export interface SearchOptions {
  seeds: readonly number[];
  /** Stop at the lowest failing seed (every lower seed still runs). */
  failFast?: boolean;
  shrink?: boolean;
  maxShrinkRuns?: number;
  /** Called after each seed completes. */
  onSeed?: (outcome: SeedOutcome, done: number, failures: number) => void;
  /** Called before each shrink step. */
  onShrinkStep?: (runs: number) => void;
  /** True once SIGINT has asked to stop. */
  aborted?: () => boolean;
  /** The wall clock, for seeds per second (never read by the model). */
  wallClockMs?: () => number;
}

export interface Shrunk {
  seed: number;
  original: FaultSpec[];
  faults: FaultSpec[];
  runs: number;
  /** The shrunk schedule's run: its trace hash and findings, which `run counterexample.yaml` reproduces. */
  outcome: SeedOutcome;
}

export interface SearchResult {
  /** Every completed seed's outcome, by seed. */
  outcomes: SeedOutcome[];
  failures: SeedOutcome[];
  interrupted: boolean;
  /** Wall time of the search itself (not the shrinking), for seeds per second. */
  searchMs: number;
  shrunk?: Shrunk;
}

/** Runs the seeds, then shrinks the lowest failing one. Results do not depend on `executor.size`. */
export async function search(executor: Executor, options: SearchOptions): Promise<SearchResult> {
  const clock = options.wallClockMs ?? (() => 0);
  const started = clock();
  const outcomes = new Map<number, SeedOutcome>();
  let lowestFailure = Infinity;
  let failures = 0;
  let next = 0;
  const seeds = options.seeds;
  const lane = async () => {
    for (;;) {
      if (options.aborted?.()) return;
      if (next >= seeds.length) return;
      const seed = seeds[next++];
      if (options.failFast && seed > lowestFailure) return;
      const outcome = await executor.run({ seed });
      outcomes.set(seed, outcome);
      if (outcome.verdict === 'fail') {
        failures++;
        lowestFailure = Math.min(lowestFailure, seed);
      }
      options.onSeed?.(outcome, outcomes.size, failures);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(executor.size, seeds.length)) }, lane));
  const interrupted = options.aborted?.() ?? false;
  const searchMs = clock() - started;
  let sorted = [...outcomes.values()].sort((a, b) => a.seed - b.seed);
  // With --fail-fast, seeds above the lowest failure may or may not have run: drop them.
  if (options.failFast) sorted = sorted.filter((o) => o.seed <= lowestFailure);
  const failed = sorted.filter((o) => o.verdict === 'fail');
  const result: SearchResult = { outcomes: sorted, failures: failed, interrupted, searchMs };
  if (failed.length > 0 && options.shrink !== false && !interrupted) {
    const first = failed[0];
    let last = first;
    const wanted = new Set(first.mismatches);
    const shrunk = await shrinkSchedule(
      first.faults,
      async (candidate) => {
        options.onShrinkStep?.(0);
        const o = await executor.run({ seed: first.seed, faults: candidate });
        const ok = o.verdict === 'fail' && o.mismatches.some((m) => wanted.has(m));
        if (ok) last = o;
        return ok;
      },
      { maxRuns: options.maxShrinkRuns ?? 200, aborted: options.aborted },
    );
    result.interrupted = options.aborted?.() ?? false;
    result.shrunk = { seed: first.seed, original: first.faults, faults: shrunk.faults, runs: shrunk.runs, outcome: last };
  }
  return result;
}

/** Seeds for shard `index` (1-based) of `count`: contiguous slices that cover `runs` seeds from `start` exactly once. */
export function shardSeeds(start: number, runs: number, index = 1, count = 1): number[] {
  const from = Math.floor(((index - 1) * runs) / count);
  const to = Math.floor((index * runs) / count);
  return Array.from({ length: to - from }, (_, i) => start + from + i);
}

/**
 * `counterexample.yaml`: the scenario file as written, with the seed set, the shrunk schedule
 * appended to its scripted `faults:`, and no `nemesis:` (so `run` and `check` replay exactly it).
 */
export function counterexampleYaml(scenario: Scenario, seed: number, faults: readonly FaultSpec[], header: readonly string[]): string {
  const text = readFileSync(scenario.source, 'utf8');
  const raw = (extname(scenario.source).toLowerCase() === '.json' ? JSON.parse(text) : parseYaml(text)) as Record<string, unknown>;
  const { nemesis: _nemesis, ...rest } = raw;
  const scripted = Array.isArray(rest.faults) ? rest.faults : [];
  const out = { ...rest, seed, faults: [...scripted, ...toScenarioFaults(faults)] };
  const doc = new Document(out);
  const seq = doc.get('faults', true);
  if (seq instanceof YAMLSeq) {
    for (const item of seq.items) if (item instanceof YAMLMap) item.flow = true;
    if (seq.items.length === 0) seq.flow = true;
  }
  doc.commentBefore = header.map((l) => ` ${l}`).join('\n');
  return doc.toString({ lineWidth: 0 });
}
