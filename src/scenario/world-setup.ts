import { verdictOf } from '../check/permissions.js';
import { SimulationError } from '../engine/errors.js';
import type { FaultStep, ScriptedNemesis } from '../faults/scripted-nemesis.js';
import type { Violation } from '../check/violation.js';
import type { DurationUs } from '../engine/time.js';
import type { RunDetail, RunResult, SimulateOptions } from './run-result.js';
import type { DiskConfig } from '../world/disk.js';
import type { LinkConfig } from '../world/network.js';
import type { NodeId } from '../world/node.js';
import type { World } from '../world/world.js';
import { formatDuration } from './duration.js';
import type { Scenario } from './load.js';
import { FAULT_ACTIONS, type ParsedFault } from './schema.js';

/** Building blocks every scenario run shares: the world's network and disks, faults, healing. */

export function linkConfig(s: Scenario): Partial<LinkConfig> {
  const out: Partial<LinkConfig> = {};
  if (s.network?.latency) out.latency = s.network.latency;
  if (s.network?.lossRate !== undefined) out.lossRate = s.network.lossRate;
  if (s.network?.duplicateRate !== undefined) out.duplicateRate = s.network.duplicateRate;
  return out;
}

export function diskConfig(s: Scenario): Partial<DiskConfig> {
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

/**
 * A scenario fault as a nemesis step. Role targets (`controller`, `leader(orders-0)`,
 * `follower(orders-0)`) are resolved by `resolveRole` when the fault fires.
 */
export function faultStep(
  f: ParsedFault,
  brokerIds: readonly NodeId[],
  resolveRole?: (target: string) => () => readonly NodeId[],
  allNodes?: () => readonly NodeId[],
): FaultStep {
  const kind = FAULT_ACTIONS.find((a) => f[a] !== undefined);
  if (kind === undefined) throw new SimulationError('a fault without an action passed validation');
  if (kind === 'partition') {
    const spec = f.partition as readonly (readonly (string | number)[])[];
    const resolveGroups = () => {
      const named = spec.map((group) => [...new Set(group.filter((m) => m !== 'others').flatMap((m) => resolveMember(m)))]);
      const taken = new Set(named.flat());
      const rest = (allNodes?.() ?? brokerIds).filter((id) => !taken.has(id));
      return spec.map((group, i) => (group.includes('others') ? [...named[i], ...rest] : named[i]));
    };
    const resolveMember = (m: string | number): readonly NodeId[] => {
      if (typeof m === 'number') return [m];
      if (m === 'all-brokers' || m === 'brokers') return brokerIds;
      if (resolveRole === undefined) throw new SimulationError(`fault at ${formatDuration(f.at)}: ${m} needs the Kafka model (a topics: section)`);
      return resolveRole(m)();
    };
    return { atUs: f.at, kind, targets: [], resolveGroups, forUs: f.for };
  }
  const target = f[kind];
  let targets: NodeId[] = [];
  if (kind === 'heal') targets = [];
  else if (target === 'all-brokers') targets = [...brokerIds];
  else if (typeof target === 'number') {
    if (!brokerIds.includes(target)) throw new SimulationError(`fault at ${formatDuration(f.at)}: there is no broker ${target} (brokers are ${brokerIds.join(', ')})`);
    targets = [target];
  } else if (typeof target === 'string') {
    if (resolveRole === undefined) throw new SimulationError(`fault at ${formatDuration(f.at)}: ${target} needs the Kafka model (a topics: section)`);
    return { atUs: f.at, kind, targets: [], resolveTargets: resolveRole(target), label: target, forUs: f.for };
  }
  return { atUs: f.at, kind, targets, forUs: f.for };
}

/** The liveness phase: every fault ends, every machine is powered and running. */
export function healEverything(world: World): void {
  world.network.heal();
  for (const m of world.machines()) {
    if (!m.powered) m.powerOn();
    else if (m.state === 'paused') m.resume();
    else if (m.state === 'stopped') m.start();
  }
}

export function shellQuote(text: string): string {
  return /^[\w./:@%+=-]+$/.test(text) ? text : `'${text.replace(/'/g, `'\\''`)}'`;
}


/** Runs the fault window, heals everything, then lets the cluster recover for `healPhaseUs`. */
export function runFaultWindowThenHeal(world: World, nemesis: ScriptedNemesis, faultWindowUs: DurationUs, healPhaseUs: DurationUs): void {
  world.runUntil(faultWindowUs);
  healEverything(world);
  world.runUntil(faultWindowUs + healPhaseUs);
  nemesis.finish();
}

/**
 * The `run --json` object and the report's detail, from a finished run: the verdict compares the
 * checks found with the scenario's `expect:` list (both ways).
 */
export function runResult(
  run: { scenario: Scenario; options: SimulateOptions; seed: number | string; startedMs: number; world: World; nemesis: ScriptedNemesis; faultWindowUs: DurationUs },
  violations: Violation[],
  records: { sent: number; acked: number; polled?: number },
  writes: RunDetail['writes'],
): RunResult & { detail: RunDetail } {
  const { scenario, options, seed, world } = run;
  const expected: string[] = [...(scenario.expect ?? [])];
  const verdict = verdictOf(expected, violations, scenario.allow ?? []);
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
      simulatedMs: world.nowUs / 1000,
      wallMs: options.wallClockMs ? Math.round(options.wallClockMs() - run.startedMs) : 0,
      recordsSent: records.sent,
      recordsAcked: records.acked,
      recordsPolled: records.polled ?? 0,
    },
    replay: `npx kafkaesque run ${shellQuote(scenario.source)} --seed ${shellQuote(String(seed))}${durationFlag}`,
    detail: {
      nodes: world.machines().map((m) => ({ id: m.id, name: m.name, rack: m.rack })),
      faults: run.nemesis.intervals,
      faultWindowUs: run.faultWindowUs,
      endUs: world.nowUs,
      writes,
    },
  };
}
