import { mkdirSync, renameSync, unlinkSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import chalk from 'chalk';
import cliProgress from 'cli-progress';
import { junitCases, junitXml, type JunitCase } from '../check/junit.js';
import { faultsYaml, toScenarioFaults } from '../faults/random-nemesis.js';
import { writeRunReport } from '../report/html-report.js';
import { loadScenario, type Scenario } from '../scenario/load.js';
import { CHECK_NAMES } from '../scenario/schema.js';
import { simulate } from '../scenario/simulate.js';
import { shellQuote } from '../scenario/world-setup.js';
import { UsageError } from './usage-error.js';
import { counterexampleYaml, defaultWorkers, makeExecutor, search, shardSeeds, type SearchResult, type SeedOutcome } from './search.js';

/** Exit code when SIGINT stopped a search (128 + SIGINT, as shells report it). */
export const EXIT_INTERRUPTED = 130;

export interface CheckFlags {
  runs: number;
  seed?: number;
  workers?: number;
  shard?: { index: number; count: number };
  json?: boolean;
  report?: string;
  junit?: string;
  failFast?: boolean;
  shrink?: boolean;
}

/** Where a check writes, and what it may read: injectable for tests. */
export interface CheckIO {
  out: (text: string) => unknown;
  err: (text: string) => unknown;
  /** The progress bar's stream; it is drawn only when this is a terminal. */
  progress?: NodeJS.WritableStream & { isTTY?: boolean };
  /** Install a SIGINT handler that asks the search to stop (the CLI does; tests may not). */
  handleSigint?: boolean;
  /** Test hook: report true to stop as if SIGINT had arrived. */
  interrupt?: () => boolean;
}

/** Writes under a temporary name, then renames: a reader never sees half a file. */
export function writeAtomically(path: string, content: string): void {
  mkdirSync(dirname(resolve(path)), { recursive: true });
  const tmp = `${path}.tmp-${process.pid}`;
  try {
    writeFileSync(tmp, content);
    renameSync(tmp, path);
  } catch (e) {
    try {
      unlinkSync(tmp);
    } catch {
      // nothing to clean
    }
    throw e;
  }
}

function describeFinding(v: SeedOutcome['violations'][number]): string {
  return `${v.check} ×${v.count}: ${v.message}`;
}

/** The `check --json` object (DESIGN.md), plus what it adds: the seed range, the shrunk schedule. */
export function checkJson(scenario: Scenario, flags: CheckFlags, seeds: readonly number[], r: SearchResult, extra: Record<string, unknown>) {
  const seconds = r.searchMs / 1000;
  return {
    scenario: scenario.name,
    runs: flags.runs,
    seedsTried: r.outcomes.length,
    seedsPerSec: seconds > 0 ? Math.round((r.outcomes.length / seconds) * 100) / 100 : 0,
    failures: r.failures.map((f) => ({ seed: f.seed, violations: f.violations, faults: toScenarioFaults(f.faults), mismatches: f.mismatches, traceHash: f.traceHash })),
    seeds: seeds.length > 0 ? { from: seeds[0], to: seeds[seeds.length - 1] } : null,
    shard: flags.shard === undefined ? null : `${flags.shard.index}/${flags.shard.count}`,
    interrupted: r.interrupted,
    shrunk:
      r.shrunk === undefined
        ? null
        : {
            seed: r.shrunk.seed,
            faults: toScenarioFaults(r.shrunk.faults),
            originalFaults: r.shrunk.original.length,
            runs: r.shrunk.runs,
            violations: r.shrunk.outcome.violations,
            traceHash: r.shrunk.outcome.traceHash,
          },
    ...extra,
  };
}

/** `kafkaesque check`: the property search. Returns the exit code. */
export async function checkCommand(file: string, flags: CheckFlags, io: CheckIO): Promise<number> {
  const scenario = loadScenario(file);
  const start = flags.seed ?? (typeof scenario.seed === 'number' ? scenario.seed : 1);
  if (!Number.isSafeInteger(start + flags.runs)) throw new UsageError(`--seed ${start} plus --runs ${flags.runs} must stay below 2^53`);
  const seeds = shardSeeds(start, flags.runs, flags.shard?.index, flags.shard?.count);
  const workers = Math.max(1, Math.min(flags.workers ?? defaultWorkers(), seeds.length));
  const { out, err } = io;
  const quoted = shellQuote(file);
  const checkReplay = (seed: number) => `npx kafkaesque check ${quoted} --runs 1 --seed ${seed}`;

  let interrupted = false;
  const onSigint = () => {
    if (interrupted) process.exit(EXIT_INTERRUPTED); // a second Ctrl-C: stop at once
    interrupted = true;
    err('kafkaesque: interrupted; finishing the seeds under way (Ctrl-C again to quit at once)');
  };
  if (io.handleSigint) process.on('SIGINT', onSigint);
  const aborted = () => interrupted || (io.interrupt?.() ?? false);

  const bar =
    !flags.json && io.progress?.isTTY
      ? new cliProgress.SingleBar(
          {
            stream: io.progress,
            format: ' {bar} {value}/{total} seeds | {rate} seeds/s | {failures} failure(s) | {phase}',
            hideCursor: true,
            clearOnComplete: true,
            etaBuffer: 20,
          },
          cliProgress.Presets.shades_classic,
        )
      : undefined;
  const wall = () => performance.now(); // statistics and the progress bar only
  const begun = wall();
  if (!flags.json) {
    const range = seeds.length > 0 ? `seeds ${seeds[0]}..${seeds[seeds.length - 1]}` : 'no seeds in this shard';
    out(`${chalk.bold(scenario.name)}  check: ${range}${flags.shard ? ` (shard ${flags.shard.index}/${flags.shard.count} of ${flags.runs} runs)` : ''}, ${workers} worker${workers > 1 ? 's' : ''}`);
  }
  bar?.start(seeds.length, 0, { rate: '0.0', failures: 0, phase: 'searching' });
  let shrinkRuns = 0;
  const executor = makeExecutor(scenario, workers);
  let result: SearchResult;
  try {
    result = await search(executor, {
      seeds,
      failFast: flags.failFast,
      shrink: flags.shrink,
      aborted,
      wallClockMs: wall,
      onSeed: (_o, done, failures) => bar?.update(done, { rate: (done / Math.max(0.001, (wall() - begun) / 1000)).toFixed(1), failures, phase: 'searching' }),
      onShrinkStep: () => bar?.update({ phase: `shrinking (${++shrinkRuns} runs)` }),
    });
  } finally {
    bar?.stop();
    await executor.close();
    if (io.handleSigint) process.off('SIGINT', onSigint);
  }

  // Files: the counterexample, the report, the JUnit XML; each written whole or not at all.
  const extra: Record<string, unknown> = {};
  const shrunk = result.shrunk;
  let counterexample: string | undefined;
  let reportPath: string | undefined;
  if (shrunk !== undefined) {
    counterexample = flags.report !== undefined ? join(flags.report, 'counterexample.yaml') : 'counterexample.yaml';
    const header = [
      `kafkaesque check counterexample: scenario ${scenario.name}, seed ${shrunk.seed}, shrunk from ${shrunk.original.length} random faults to ${shrunk.faults.length} in ${shrunk.runs} runs.`,
      `Found: ${shrunk.outcome.violations.map((v) => `${v.check} ×${v.count}`).join(', ') || 'none'}; expected: ${(scenario.expect ?? []).join(', ') || 'no violation'}. Trace ${shrunk.outcome.traceHash}.`,
      `Replay: npx kafkaesque run ${shellQuote(counterexample)} --seed ${shrunk.seed}`,
    ];
    writeAtomically(counterexample, counterexampleYaml(scenario, shrunk.seed, shrunk.faults, header));
    extra.counterexample = counterexample;
    extra.replay = `npx kafkaesque run ${shellQuote(counterexample)} --seed ${shrunk.seed}`;
    if (flags.report !== undefined) {
      const replayed = loadScenario(counterexample);
      const { detail, ...run } = simulate(replayed, { seed: shrunk.seed });
      reportPath = writeRunReport(flags.report, replayed, run, detail);
      extra.report = reportPath;
    }
  } else if (result.failures.length > 0) {
    extra.replay = checkReplay(result.failures[0].seed);
  }
  if (result.interrupted) {
    const done = new Set(result.outcomes.map((o) => o.seed));
    const firstUndone = seeds.find((s) => !done.has(s));
    if (firstUndone !== undefined) extra.resume = `npx kafkaesque check ${quoted} --runs ${seeds[seeds.length - 1] - firstUndone + 1} --seed ${firstUndone}`;
  }
  const json = checkJson(scenario, flags, seeds, result, extra);
  if (flags.report !== undefined) writeAtomically(join(flags.report, 'check.json'), `${JSON.stringify(json, null, 2)}\n`);
  if (flags.junit !== undefined) {
    const cases: JunitCase[] = result.outcomes.flatMap((o) =>
      junitCases(
        {
          scenario: scenario.name,
          seed: o.seed,
          expected: scenario.expect ?? [],
          found: new Map(o.violations.map((v) => [v.check, { count: v.count, message: v.message }])),
          seconds: o.wallMs / 1000,
          details: o.verdict === 'fail' ? `replay: ${checkReplay(o.seed)}\nfaults:\n${faultsYaml(o.faults, '  ')}` : undefined,
        },
        CHECK_NAMES,
      ),
    );
    writeAtomically(flags.junit, junitXml(scenario.name, cases, { seeds: seeds.length > 0 ? `${seeds[0]}..${seeds[seeds.length - 1]}` : '', interrupted: String(result.interrupted) }));
  }

  if (flags.json) {
    out(JSON.stringify(json));
  } else {
    const rate = `${json.seedsPerSec} seeds/s`;
    if (result.interrupted) out(`${chalk.yellow('INTERRUPTED')}  ${result.outcomes.length} of ${seeds.length} seeds run, ${result.failures.length} failed (${rate})`);
    else if (result.failures.length === 0) out(`${chalk.green('PASS')}  ${result.outcomes.length} seeds, every outcome as expected (${rate})`);
    else out(`${chalk.red('FAIL')}  ${result.failures.length} of ${result.outcomes.length} seeds differ from expect: ${(scenario.expect ?? []).join(', ') || 'no violation'} (${rate})`);
    for (const f of result.failures.slice(0, 10)) {
      const missing = f.mismatches.filter((m) => m.startsWith('!')).map((m) => m.slice(1));
      const found = f.violations.filter((v) => f.mismatches.includes(v.check)).map((v) => `${chalk.yellow(v.check)} ${describeFinding(v).slice(v.check.length + 1)}`);
      out(`  seed ${f.seed} (${f.faults.length} faults): ${[...found, ...missing.map((m) => `${chalk.yellow(m)} expected, not found`)].join('; ')}`);
    }
    if (result.failures.length > 10) out(`  … and ${result.failures.length - 10} more (--json lists them all)`);
    if (shrunk !== undefined) {
      out(`shrunk seed ${shrunk.seed} from ${shrunk.original.length} faults to ${shrunk.faults.length} in ${shrunk.runs} runs:`);
      out(`seed: ${shrunk.seed}`);
      out('faults:');
      out(faultsYaml(shrunk.faults, '  '));
      for (const v of shrunk.outcome.violations) out(`  found ${describeFinding(v)}`);
      out(`counterexample: ${counterexample}`);
    }
    if (reportPath !== undefined) out(`report: ${reportPath}`);
    if (extra.replay !== undefined) out(`replay: ${String(extra.replay)}`);
    if (extra.resume !== undefined) out(`resume: ${String(extra.resume)}`);
    if (result.interrupted && extra.replay === undefined) out(`replay: npx kafkaesque check ${quoted} --runs ${flags.runs} --seed ${start}${flags.shard ? ` --shard ${flags.shard.index}/${flags.shard.count}` : ''}`);
  }
  if (result.interrupted) return EXIT_INTERRUPTED;
  return result.failures.length > 0 ? 1 : 0;
}
