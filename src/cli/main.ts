#!/usr/bin/env node
import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import chalk from 'chalk';
import { Command, CommanderError, InvalidArgumentError } from 'commander';
import { SimulationError } from '../engine/errors.js';
import { writeRunReport } from '../report/html-report.js';
import { parseDuration } from '../scenario/duration.js';
import { loadScenario } from '../scenario/load.js';
import { ScenarioError } from '../scenario/scenario-error.js';
import { simulate } from '../scenario/simulate.js';
import { describeAt, formatDescription } from '../scenario/describe.js';
import { CHECKS } from '../check/definitions.js';
import { closestMatch } from '../scenario/scenario-error.js';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { checkCommand, EXIT_INTERRUPTED, writeAtomically, type CheckFlags, type CheckIO } from './check-command.js';
import { UsageError } from './usage-error.js';
import { junitCases, junitXml } from '../check/junit.js';
import { CHECK_NAMES } from '../scenario/schema.js';

/** Exit codes (DESIGN.md): the outcome matched `expect:`, it did not, or the input was bad. */
export const EXIT_PASS = 0;
export const EXIT_FAIL = 1;
export const EXIT_BAD_INPUT = 2;

export { EXIT_INTERRUPTED };

interface RunFlags {
  seed?: number;
  json?: boolean;
  report?: string;
  duration?: number;
  junit?: string;
}

function parsePositiveInt(what: string, max: number) {
  return (text: string): number => {
    if (!/^\d+$/.test(text) || Number(text) < 1 || Number(text) > max) throw new InvalidArgumentError(`expected ${what}: an integer from 1 to ${max}, found ${JSON.stringify(text)}`);
    return Number(text);
  };
}

/** `--shard i/n`: the i-th of n slices of the seed range, 1-based (as Playwright and Jest count). */
function parseShard(text: string): { index: number; count: number } {
  const m = /^(\d+)\/(\d+)$/.exec(text);
  const index = Number(m?.[1]);
  const count = Number(m?.[2]);
  if (m === null || count < 1 || count > 1_000_000 || index < 1 || index > count) {
    throw new InvalidArgumentError(`expected a shard i/n with 1 ≤ i ≤ n, such as 2/4, found ${JSON.stringify(text)}`);
  }
  return { index, count };
}

function parseSeed(text: string): number {
  if (!/^-?\d+$/.test(text) || !Number.isSafeInteger(Number(text))) throw new InvalidArgumentError(`expected an integer seed, found ${JSON.stringify(text)}`);
  return Number(text);
}

function parseDurationFlag(text: string): number {
  const us = parseDuration(text);
  if (us === undefined || us <= 0) throw new InvalidArgumentError(`expected a positive duration such as 30s, 500ms or 2m, found ${JSON.stringify(text)}`);
  return us;
}

function runCommand(file: string, flags: RunFlags, out: (text: string) => unknown): number {
  const scenario = loadScenario(file);
  const wallClockMs = () => performance.now(); // statistics only; never read by the model
  const { detail, ...result } = simulate(scenario, { seed: flags.seed, durationUs: flags.duration, wallClockMs });
  let reportPath: string | undefined;
  if (flags.report !== undefined) reportPath = writeRunReport(flags.report, scenario, result, detail);
  if (flags.junit !== undefined) {
    const found = new Map<string, { count: number; message: string }>();
    for (const v of result.violations) {
      const f = found.get(v.check);
      if (f !== undefined) f.count++;
      else found.set(v.check, { count: 1, message: v.message });
    }
    const cases = junitCases({ scenario: result.scenario, seed: result.seed, expected: result.expected, found, seconds: result.stats.wallMs / 1000, details: `replay: ${result.replay}` }, CHECK_NAMES);
    writeAtomically(flags.junit, junitXml(result.scenario, cases, { seed: String(result.seed), traceHash: result.traceHash }));
  }
  if (flags.json) {
    out(JSON.stringify(result));
  } else {
    const pass = result.verdict === 'pass';
    out(`${chalk.bold(result.scenario)}  seed ${result.seed}  ${pass ? chalk.green('PASS') : chalk.red('FAIL')}`);
    out(`  expected: ${result.expected.length ? result.expected.join(', ') : 'no violation'}; found: ${result.violations.length} finding(s)`);
    const byCheck = new Map<string, typeof result.violations>();
    for (const v of result.violations) byCheck.set(v.check, [...(byCheck.get(v.check) ?? []), v]);
    for (const [check, vs] of byCheck) {
      const permitted = vs.every((v) => v.permitted !== undefined) ? ` (permitted by ${vs[0].permitted})` : '';
      out(`  ${chalk.yellow(check)} ×${vs.length}${result.expected.includes(check) ? ' (expected)' : ''}${permitted}: ${vs[0].message}`);
    }
    const missing = result.expected.filter((c) => !byCheck.has(c));
    if (missing.length > 0) out(`  ${chalk.yellow(missing.join(', '))}: expected, not found`);
    out(`  ${result.stats.events} events, ${(result.stats.simulatedMs / 1000).toFixed(1)} s simulated in ${result.stats.wallMs} ms; trace ${result.traceHash}`);
    if (reportPath !== undefined) out(`  report: ${reportPath}`);
    out(`  replay: ${result.replay}`);
  }
  return result.verdict === 'pass' ? EXIT_PASS : EXIT_FAIL;
}

/** Builds the program. `out` and `err` receive whole lines; exit codes are returned, not thrown. */
export function buildProgram(out: (text: string) => unknown, err: (text: string) => unknown, setExit: (code: number) => void, checkIO: Partial<CheckIO> = {}): Command {
  const program = new Command();
  program
    .name('kafkaesque')
    .description('A deterministic simulator of Apache Kafka: run a scenario, inject faults, check what clients saw.')
    .version('0.1.0')
    .exitOverride()
    .configureOutput({ writeOut: (s) => out(s.replace(/\n$/, '')), writeErr: (s) => err(s.replace(/\n$/, '')) });
  program
    .command('run')
    .description('run one scenario deterministically and check it against its expect: list')
    .argument('<scenario>', 'a scenario file (.yaml, .yml or .json)')
    .option('--seed <n>', 'the seed (default: the scenario\'s seed)', parseSeed)
    .option('--json', 'print one JSON object on stdout')
    .option('--report <dir>', 'write an HTML report with its figures to this directory')
    .option('--duration <time>', 'length of the fault window, e.g. 30s (default: the scenario\'s duration)', parseDurationFlag)
    .option('--junit <file>', 'write JUnit XML, one test case per check')
    .action((file: string, flags: RunFlags) => setExit(runCommand(file, flags, out)));
  program
    .command('check')
    .description("a property search: each seed draws random faults from the scenario's nemesis: section; a failure is shrunk to a minimal counterexample.yaml")
    .argument('<scenario>', 'a scenario file (.yaml, .yml or .json)')
    .option('--runs <n>', 'how many seeds to try (over all shards)', parsePositiveInt('a number of runs', 100_000_000), 100)
    .option('--seed <s>', "the first seed (default: the scenario's seed, or 1)", parseSeed)
    .option('--workers <w>', 'worker threads (default: the number of cores); results do not depend on it', parsePositiveInt('a number of workers', 1024))
    .option('--shard <i/n>', 'run only the i-th of n slices of the seed range, e.g. 2/4', parseShard)
    .option('--json', 'print one JSON object on stdout')
    .option('--report <dir>', 'write counterexample.yaml, check.json and the counterexample\'s HTML report to this directory')
    .option('--junit <file>', 'write JUnit XML, one test case per check per seed')
    .option('--fail-fast', 'stop at the first failing seed (every lower seed still runs)')
    .option('--no-shrink', 'report failures without shrinking them')
    .action(async (file: string, flags: CheckFlags) => setExit(await checkCommand(file, flags, { ...checkIO, out, err })));
  program
    .command('list')
    .description('the scenario catalogue, one line each')
    .option('--dir <dir>', 'where the scenarios are', 'scenarios')
    .action((flags: { dir: string }) => {
      let files: string[];
      try {
        files = readdirSync(flags.dir).filter((f) => /\.(ya?ml|json)$/.test(f)).sort();
      } catch {
        throw new UsageError(`${flags.dir}: cannot read the scenario folder`);
      }
      for (const f of files) {
        const s = loadScenario(join(flags.dir, f));
        const line = (s.description ?? '').replace(/\s+/g, ' ').trim();
        const expects = (s.expect ?? []).length ? (s.expect ?? []).join(', ') : 'none';
        out(`${chalk.bold(s.name.padEnd(28))} ${`expect: ${expects}`.padEnd(22)} ${line.length > 90 ? `${line.slice(0, 87)}...` : line}`);
      }
      setExit(EXIT_PASS);
    });
  program
    .command('explain')
    .description('what a check means, and which scenario shows it')
    .argument('<check>', 'a check name, such as lost-write')
    .action((name: string) => {
      const check = CHECKS.find((c) => c.name === name);
      if (check === undefined) {
        const hint = closestMatch(name, CHECKS.map((c) => c.name));
        throw new UsageError(`unknown check ${JSON.stringify(name)}${hint ? `; did you mean ${hint}?` : `; expected one of ${CHECKS.map((c) => c.name).join(', ')}`}`);
      }
      out(`${chalk.bold(check.name)} (${check.kind}${check.implemented ? '' : ', not reported by this version yet'})`);
      out(check.definition);
      if (check.permittedWhen) out(`Expected, not a bug, when: ${check.permittedWhen}.`);
      const shownBy: string[] = [];
      try {
        for (const f of readdirSync('scenarios').filter((x) => /\.(ya?ml|json)$/.test(x)).sort()) {
          const s = loadScenario(join('scenarios', f));
          if ((s.expect ?? []).includes(check.name as never)) shownBy.push(join('scenarios', f));
        }
      } catch {
        // No catalogue here: nothing to point at.
      }
      if (shownBy.length) out(`Shown by: ${shownBy.join(', ')}`);
      setExit(EXIT_PASS);
    });
  program
    .command('describe')
    .description("the cluster's state at a moment of a run, as kafka-topics.sh --describe shows it, and the controller quorum's")
    .argument('<scenario>', 'a scenario file with topics (.yaml, .yml or .json)')
    .option('--at <time>', 'the moment to describe, e.g. 12s (default: the end of the fault window)', parseDurationFlag)
    .option('--seed <n>', "the seed (default: the scenario's seed)", parseSeed)
    .option('--json', 'print the description as one JSON object')
    .action((file: string, flags: { at?: number; seed?: number; json?: boolean }) => {
      const scenario = loadScenario(file);
      if ((scenario.topics ?? []).length === 0) throw new UsageError(`${file}: describe needs a Kafka scenario (one with a topics: section)`);
      const d = describeAt(scenario, { seed: flags.seed, atUs: flags.at ?? scenario.duration ?? 30_000_000 });
      out(flags.json ? JSON.stringify(d) : formatDescription(d));
      setExit(EXIT_PASS);
    });
  return program;
}

/** Runs the CLI with `argv` (without node and the script) and returns the exit code. `check` needs {@link mainAsync}. */
export function main(argv: string[], out: (t: string) => unknown = (t) => process.stdout.write(`${t}\n`), err: (t: string) => unknown = (t) => process.stderr.write(`${t}\n`)): number {
  if (argv[0] === 'check') throw new Error('kafkaesque check is asynchronous: call mainAsync');
  let code = EXIT_PASS;
  const program = buildProgram(out, err, (c) => (code = c));
  try {
    program.parse(argv, { from: 'user' });
    return code;
  } catch (e) {
    return exitCodeFor(e, err);
  }
}

/** Runs the CLI with `argv`, `check` included, and resolves to the exit code. */
export async function mainAsync(
  argv: string[],
  out: (t: string) => unknown = (t) => process.stdout.write(`${t}\n`),
  err: (t: string) => unknown = (t) => process.stderr.write(`${t}\n`),
  checkIO: Partial<CheckIO> = {},
): Promise<number> {
  let code = EXIT_PASS;
  const program = buildProgram(out, err, (c) => (code = c), checkIO);
  try {
    await program.parseAsync(argv, { from: 'user' });
    return code;
  } catch (e) {
    return exitCodeFor(e, err);
  }
}

function exitCodeFor(e: unknown, err: (t: string) => unknown): number {
  if (e instanceof CommanderError) {
    // Help and version exit 0; every other commander error is a usage error.
    return e.exitCode === 0 ? EXIT_PASS : EXIT_BAD_INPUT;
  }
  if (e instanceof ScenarioError || e instanceof UsageError) {
    for (const line of e.message.split('\n')) err(`kafkaesque: ${line}`);
    return EXIT_BAD_INPUT;
  }
  if (e instanceof SimulationError) {
    // A scenario that validated but asks the world for something impossible.
    err(`kafkaesque: ${e.message}`);
    return EXIT_BAD_INPUT;
  }
  throw e;
}

function isEntryPoint(): boolean {
  try {
    return process.argv[1] !== undefined && realpathSync(process.argv[1]) === realpathSync(fileURLToPath(import.meta.url));
  } catch {
    return false;
  }
}

if (isEntryPoint()) {
  // A closed pipe (`kafkaesque run … | head`) is not an error worth a stack trace.
  process.stdout.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code === 'EPIPE') process.exit(process.exitCode ?? 0);
    throw e;
  });
  void mainAsync(process.argv.slice(2), undefined, undefined, { progress: process.stderr, handleSigint: true }).then((code) => {
    process.exitCode = code;
  });
}
