import { checkLostWrites, type AckedWrite } from '../check/lost-write.js';
import { sToUs } from '../engine/time.js';
import { ScriptedNemesis } from '../faults/scripted-nemesis.js';
import { World } from '../world/world.js';
import { APPENDER_LOG, AppenderNode } from './appender-node.js';
import { diskConfig, faultStep, linkConfig, runFaultWindowThenHeal, runResult } from './world-setup.js';
import type { Scenario } from './load.js';
import { simulateKafka } from './kafka-simulation.js';
import type { RunDetail, RunResult, SimulateOptions } from './run-result.js';

export type { RunStats, RunResult, RunDetail, SimulateOptions } from './run-result.js';

const DEFAULT_DURATION_US = sToUs(30);
/** After the fault window everything heals; this long is left for recovery before checking. */
const HEAL_PHASE_US = sToUs(2);

/** Runs a scenario once, deterministically: the same scenario and seed give the same trace hash. */
export function simulate(scenario: Scenario, options: SimulateOptions = {}): RunResult & { detail: RunDetail } {
  // A scenario with topics runs the Kafka model; without, the page-cache demonstration.
  if (scenario.topics !== undefined && scenario.topics.length > 0) return simulateKafka(scenario, options);
  return simulatePageCacheDemo(scenario, options);
}

/** The world layer on its own: stand-in brokers appending to their disks (see AppenderNode). */
function simulatePageCacheDemo(scenario: Scenario, options: SimulateOptions): RunResult & { detail: RunDetail } {
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

  runFaultWindowThenHeal(world, nemesis, faultWindowUs, HEAL_PHASE_US);

  const { acked, present } = collectWrites(world);
  const violations = checkLostWrites(acked, present);
  return runResult(
    { scenario, options, seed, startedMs: started, world, nemesis, faultWindowUs },
    violations,
    { sent: world.history.filter((h) => h.entry.type === 'append').length, acked: acked.length },
    world.machines().map((m) => ({
      node: m.name,
      acked: acked.filter((w) => w.location === m.name).length,
      lost: violations.filter((v) => v.evidence?.location === m.name).length,
    })),
  );
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

