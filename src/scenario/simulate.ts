import { checkLostWrites, type AckedWrite } from '../check/lost-write.js';
import type { Violation } from '../check/violation.js';
import { SimulationError } from '../engine/errors.js';
import { sToUs, type DurationUs, type TimeUs } from '../engine/time.js';
import { ScriptedNemesis, type FaultInterval, type FaultStep } from '../faults/scripted-nemesis.js';
import type { DiskConfig } from '../world/disk.js';
import type { LinkConfig } from '../world/network.js';
import type { NodeId } from '../world/node.js';
import { World } from '../world/world.js';
import { APPENDER_LOG, AppenderNode } from './appender-node.js';
import { formatDuration } from './duration.js';
import type { Scenario } from './load.js';
import { FAULT_ACTIONS, type ParsedFault } from './schema.js';

export interface RunStats {
  events: number;
  simulatedMs: number;
  wallMs: number;
  recordsSent: number;
  recordsAcked: number;
  recordsPolled: number;
}

/** What `run --json` prints (DESIGN.md), plus what the report draws. */
export interface RunResult {
  scenario: string;
  seed: number | string;
  verdict: 'pass' | 'fail';
  expected: string[];
  violations: Violation[];
  traceHash: string;
  stats: RunStats;
  replay: string;
}

export interface RunDetail {
  nodes: { id: NodeId; name: string; rack: string }[];
  faults: FaultInterval[];
  faultWindowUs: DurationUs;
  endUs: TimeUs;
  /** Per node: records acknowledged, and which of them were lost. */
  writes: { node: string; acked: number; lost: number }[];
}

export interface SimulateOptions {
  seed?: number | string;
  /** Overrides the scenario's `duration` (the fault window). */
  durationUs?: DurationUs;
  /** Wall clock for `stats.wallMs`; model code never reads one (DESIGN.md rule 1). */
  wallClockMs?: () => number;
}

const DEFAULT_DURATION_US = sToUs(30);
/** After the fault window everything heals; this long is left for recovery before checking. */
const HEAL_PHASE_US = sToUs(2);

/** Runs a scenario once, deterministically: the same scenario and seed give the same trace hash. */
export function simulate(scenario: Scenario, options: SimulateOptions = {}): RunResult & { detail: RunDetail } {
  const started = options.wallClockMs?.() ?? 0;
  const seed = options.seed ?? scenario.seed ?? 1;
  const faultWindowUs = options.durationUs ?? scenario.duration ?? DEFAULT_DURATION_US;
  const brokerIds = Array.from({ length: scenario.cluster.brokers }, (_, i) => i + 1);
  const racks = scenario.cluster.racks ?? ['default'];
  const flushEvery = scenario.cluster.config?.['log.flush.interval.messages'];

  const world = new World({ seed, network: linkConfig(scenario), disk: diskConfig(scenario) });
  for (const id of brokerIds) {
    world.addMachine({ id, name: `broker-${id}`, rack: racks[(id - 1) % racks.length], factory: (ctx) => new AppenderNode(ctx, flushEvery, brokerIds.filter((b) => b !== id)) });
  }
  world.startAll();
  const nemesis = new ScriptedNemesis(world, (scenario.faults ?? []).map((f) => faultStep(f, brokerIds)));

  world.runUntil(faultWindowUs);
  healEverything(world);
  world.runUntil(faultWindowUs + HEAL_PHASE_US);
  nemesis.finish();

  const { acked, present } = collectWrites(world);
  const violations = checkLostWrites(acked, present);
  const expected: string[] = [...(scenario.expect ?? [])];
  const found = new Set(violations.map((v) => v.check));
  const verdict = expected.every((c) => found.has(c)) && [...found].every((c) => expected.includes(c)) ? 'pass' : 'fail';
  const endUs = world.nowUs;
  const durationFlag = options.durationUs !== undefined ? ` --duration ${formatDuration(options.durationUs)}` : '';
  return {
    scenario: scenario.name,
    seed,
    verdict,
    expected,
    violations,
    traceHash: world.traceHash,
    stats: {
      events: world.sim.eventsDelivered,
      simulatedMs: endUs / 1000,
      wallMs: options.wallClockMs ? Math.round(options.wallClockMs() - started) : 0,
      recordsSent: world.history.filter((h) => h.entry.type === 'append').length,
      recordsAcked: acked.length,
      recordsPolled: 0,
    },
    replay: `npx kafkaesque run ${shellQuote(scenario.source)} --seed ${shellQuote(String(seed))}${durationFlag}`,
    detail: {
      nodes: world.machines().map((m) => ({ id: m.id, name: m.name, rack: m.rack })),
      faults: nemesis.intervals,
      faultWindowUs,
      endUs,
      writes: world.machines().map((m) => ({
        node: m.name,
        acked: acked.filter((w) => w.location === m.name).length,
        lost: violations.filter((v) => v.evidence?.location === m.name).length,
      })),
    },
  };
}

function linkConfig(s: Scenario): Partial<LinkConfig> {
  const out: Partial<LinkConfig> = {};
  if (s.network?.latency) out.latency = s.network.latency;
  if (s.network?.lossRate !== undefined) out.lossRate = s.network.lossRate;
  if (s.network?.duplicateRate !== undefined) out.duplicateRate = s.network.duplicateRate;
  return out;
}

function diskConfig(s: Scenario): Partial<DiskConfig> {
  const out: Partial<DiskConfig> = {};
  if (s.disk?.writeMs !== undefined) out.writeLatency = { distribution: 'constant', ms: s.disk.writeMs };
  if (s.disk?.fsyncMs !== undefined) out.fsyncLatency = { distribution: 'constant', ms: s.disk.fsyncMs };
  if (s.disk?.tornWrites !== undefined) out.tornWrites = s.disk.tornWrites;
  const expire = s.disk?.['vm.dirty_expire_centisecs'];
  const wake = s.disk?.['vm.dirty_writeback_centisecs'];
  if (expire !== undefined) out.writebackExpireMs = expire * 10;
  if (wake !== undefined) out.writebackIntervalMs = wake * 10;
  return out;
}

function faultStep(f: ParsedFault, brokerIds: readonly NodeId[]): FaultStep {
  const kind = FAULT_ACTIONS.find((a) => f[a] !== undefined);
  if (kind === undefined) throw new SimulationError('a fault without an action passed validation');
  const target = f[kind];
  let targets: NodeId[] = [];
  if (kind === 'heal') targets = [];
  else if (target === 'all-brokers') targets = [...brokerIds];
  else if (typeof target === 'number') {
    if (!brokerIds.includes(target)) throw new SimulationError(`fault at ${formatDuration(f.at)}: there is no broker ${target} (brokers are ${brokerIds.join(', ')})`);
    targets = [target];
  }
  return { atUs: f.at, kind, targets, forUs: f.for };
}

/** The liveness phase: every fault ends, every machine is powered and running. */
function healEverything(world: World): void {
  world.network.heal();
  for (const m of world.machines()) {
    if (!m.powered) m.powerOn();
    else if (m.state === 'paused') m.resume();
    else if (m.state === 'stopped') m.start();
  }
}

function collectWrites(world: World): { acked: AckedWrite[]; present: Map<string, Set<string>> } {
  const nameOf = new Map(world.machines().map((m) => [m.id, m.name]));
  const acked: AckedWrite[] = [];
  for (const h of world.history) {
    if (h.entry.type === 'append-acked') acked.push({ value: String(h.entry.value), location: nameOf.get(h.node) as string, ackedAtMs: h.timeUs / 1000 });
  }
  const present = new Map<string, Set<string>>();
  for (const m of world.machines()) {
    // The page cache view, which is what the (healed, running) process reads.
    const chunks = m.disk.cacheChunks(APPENDER_LOG);
    present.set(m.name, new Set(chunks.filter((c) => !c.torn && !c.corrupt).map((c) => String(c.payload))));
  }
  return { acked, present };
}

function shellQuote(text: string): string {
  return /^[\w./:@%+=-]+$/.test(text) ? text : `'${text.replace(/'/g, `'\\''`)}'`;
}
