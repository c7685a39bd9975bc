import { KafkaConsumer, type KafkaConsumerOptions } from '../kafka/client/consumer/kafka-consumer.js';
import { parseConsumerConfig, type ConsumerConfigInput } from '../kafka/client/consumer/consumer-config.js';
import { offsetsTopicSpec } from '../kafka/group/coordinator-partition.js';
import { checkDuplicateProcessing, checkLostProcessing, checkPollOrder, checkUnseen } from '../check/consumer-history.js';
import { labelFindings, type ConfigFacts } from '../check/permissions.js';
import { CURRENT_KAFKA } from '../kafka/protocol/switches.js';
import { parseProducerConfig } from '../kafka/client/producer/producer-config.js';
import { checkDuplicates, checkInconsistentOffsets, checkLostUnacknowledgedWrites, checkNonmonotonicSends } from '../check/producer-history.js';
import { checkMonotonicCommittedOffsets, checkNoDoubleAssignment } from '../check/group-invariants.js';
import { GROUP_METADATA_TOPIC_NAME } from '../kafka/group/coordinator-partition.js';
import { ReplicationInvariants } from '../check/replication-invariants.js';
import type { Violation } from '../check/violation.js';
import { sToUs } from '../engine/time.js';
import { ScriptedNemesis } from '../faults/scripted-nemesis.js';
import { Broker } from '../kafka/broker/broker.js';
import { DEFAULT_BROKER_CONFIG, type BrokerConfig } from '../kafka/broker/broker-config.js';
import { KafkaProducer } from '../kafka/client/producer/kafka-producer.js';
import type { WorkloadSpec } from '../kafka/client/producer/workload.js';
import { Controller, type ControllerConfig, type TopicSpec } from '../kafka/controller/controller.js';
import type { ProtocolSwitches } from '../kafka/protocol/switches.js';
import { tpKey } from '../kafka/protocol/topic-partition.js';
import type { NodeId } from '../world/node.js';
import { World, type MessageObserver } from '../world/world.js';
import type { Scenario } from './load.js';
import { replicationView } from './replication-view.js';
import { RunRecorder } from './run-recorder.js';
import type { RunDetail, RunResult, SimulateOptions } from './run-result.js';
import { diskConfig, faultStep, linkConfig, runFaultWindowThenHeal, runResult } from './world-setup.js';

/** Node ids: brokers 1..N, controllers from 3000 (Kafka's docs use 3000+ for controllers), producers from 5000. */
export const FIRST_CONTROLLER_ID = 3000;
export const FIRST_PRODUCER_ID = 5000;
export const FIRST_CONSUMER_ID = 7000;
const DEFAULT_DURATION_US = sToUs(30);
/** After the fault window everything heals; this long is left for fencing, elections and catch-up. */
const HEAL_PHASE_US = sToUs(30);
/** Protocol events after which the replication invariants are checked. */
const CHECKED_EVENTS = new Set(['high-watermark', 'become-leader', 'become-follower', 'follower-append', 'leader-append', 'truncate', 'broker-start']);

/** A Kafka cluster built from a scenario, faults scheduled, not yet run. */
export interface KafkaRun {
  readonly world: World;
  readonly brokerIds: readonly number[];
  readonly controllerIds: readonly number[];
  readonly invariants: ReplicationInvariants;
  readonly nemesis: ScriptedNemesis;
  activeController(): Controller | undefined;
  /** What the report draws beyond the history (see `withReportRecording`); undefined unless asked for. */
  readonly recorder?: RunRecorder;
}

/** Builds the cluster a scenario describes: controllers, brokers, producers, faults, invariants. */
export function buildKafkaRun(scenario: Scenario, seed: number | string, faultWindowUs: number, options: { record?: boolean } = {}): KafkaRun {
  const brokerIds = Array.from({ length: scenario.cluster.brokers }, (_, i) => i + 1);
  const controllerIds = Array.from({ length: scenario.cluster.controllers ?? 1 }, (_, i) => FIRST_CONTROLLER_ID + i);
  const racks = scenario.cluster.racks ?? ['default'];
  const clusterConfig = scenario.cluster.config ?? {};
  const { preVote, ...switchFields } = scenario.protocol ?? {};
  const switches: Partial<ProtocolSwitches> = switchFields;
  const topics: TopicSpec[] = (scenario.topics ?? []).map((t) => ({ name: t.name, partitions: t.partitions, replicationFactor: t['replication.factor'], config: t.config }));
  // Kafka creates __consumer_offsets on the first FindCoordinator; here it is created with the
  // scenario's topics when there are consumers (the broker's FindCoordinator comment says so).
  if ((scenario.consumers ?? []).length > 0) topics.push(offsetsTopicSpec({ ...DEFAULT_BROKER_CONFIG, ...(clusterConfig as Partial<BrokerConfig>) }));
  const partitions = topics.flatMap((t) => Array.from({ length: t.partitions }, (_, p) => tpKey(t.name, p)));

  // Assigned once the brokers exist; the history hook below runs only after that.
  let invariants: ReplicationInvariants | undefined;
  const recording = withReportRecording(options.record === true);
  const world = new World({
    seed,
    network: linkConfig(scenario),
    disk: diskConfig(scenario),
    onHistory: (timeUs, node, entry) => {
      if (invariants !== undefined && CHECKED_EVENTS.has(entry.type)) invariants.check(timeUs / 1000, typeof entry.partition === 'string' ? entry.partition : undefined);
      recording.hooks.onHistory?.(timeUs, node, entry);
    },
    onSend: recording.hooks.onSend,
    onDeliver: recording.hooks.onDeliver,
  });
  const controllerConfig: Partial<ControllerConfig> = pick(clusterConfig, [
    'broker.session.timeout.ms',
    'min.insync.replicas',
    'unclean.leader.election.enable',
    'auto.leader.rebalance.enable',
    'leader.imbalance.check.interval.seconds',
  ]);
  // The scenario's topics are created once every broker is up, as a set-up script would.
  const createTopicsWhenBrokers = brokerIds.length;
  for (const id of controllerIds) {
    world.addMachine({ id, name: `controller-${id}`, factory: (ctx) => new Controller(ctx, { controllerId: id, voters: controllerIds, topics, createTopicsWhenBrokers, config: controllerConfig, switches, preVote }) });
  }
  const brokerConfig = clusterConfig as Partial<BrokerConfig>;
  for (const id of brokerIds) {
    world.addMachine({ id, name: `broker-${id}`, rack: racks[(id - 1) % racks.length], factory: (ctx) => new Broker(ctx, { brokerId: id, controllerIds, config: brokerConfig, switches }) });
  }
  let producerId = FIRST_PRODUCER_ID;
  for (const p of scenario.producers ?? []) {
    const workload: WorkloadSpec = {
      topic: p.topic,
      rate: p.rate,
      keys: p.keys,
      valueBytes: p.valueBytes === undefined ? undefined : { kind: 'fixed', bytes: p.valueBytes },
      startMs: p.start === undefined ? undefined : p.start / 1000,
      // Producers stop with the fault window, so the liveness phase can settle.
      stopMs: (p.stop ?? faultWindowUs) / 1000,
    };
    for (let i = 0; i < (p.count ?? 1); i++) {
      const id = producerId++;
      world.addMachine({ id, name: `producer-${id - FIRST_PRODUCER_ID + 1}`, factory: (ctx) => new KafkaProducer(ctx, { bootstrap: brokerIds, config: p.config, switches, topics: [p.topic], workloads: [workload] }) });
    }
  }
  let consumerId = FIRST_CONSUMER_ID;
  const consumersOf = new Map<string, NodeId[]>();
  const delayedStarts: [NodeId, number][] = [];
  for (const c of scenario.consumers ?? []) {
    for (let i = 0; i < (c.count ?? 1); i++) {
      const id = consumerId++;
      consumersOf.set(c.group, [...(consumersOf.get(c.group) ?? []), id]);
      const options: KafkaConsumerOptions = {
        bootstrap: brokerIds,
        config: { ...(c.config as ConsumerConfigInput), 'group.id': c.group },
        switches,
        topics: c.topics,
        app: {
          processingMs: c.processing?.ms,
          commitMode: c.processing?.commit,
          stallAtMs: c.processing?.stall === undefined ? undefined : c.processing.stall.at / 1000,
          stallForMs: c.processing?.stall === undefined ? undefined : c.processing.stall.for / 1000,
        },
      };
      world.addMachine({ id, name: `consumer-${id - FIRST_CONSUMER_ID + 1}`, factory: (ctx) => new KafkaConsumer(ctx, options) });
      if (c.start !== undefined && c.start > 0) delayedStarts.push([id, c.start]);
    }
  }
  const consumerIds = [...consumersOf.values()].flat();
  const checker = new ReplicationInvariants(replicationView(world, brokerIds, () => partitions));
  invariants = checker;
  const delayed = new Set(delayedStarts.map(([id]) => id));
  for (const m of world.machines()) if (!delayed.has(m.id)) m.start();
  for (const [id, atUs] of delayedStarts) world.machine(id).startAfter(atUs);

  const mostAdvancedController = (): Controller | undefined => {
    let best: Controller | undefined;
    for (const id of controllerIds) {
      const c = world.machine(id).process as Controller | undefined;
      if (c !== undefined && (best === undefined || c.image.offset > best.image.offset)) best = c;
    }
    return best;
  };
  const activeController = (): Controller | undefined => {
    const live = controllerIds.map((id) => world.machine(id).process as Controller | undefined).filter((c): c is Controller => c !== undefined);
    return live.find((c) => c.isActive);
  };
  const producerIds = world.machines().filter((m) => m.id >= FIRST_PRODUCER_ID && m.id < FIRST_CONSUMER_ID).map((m) => m.id);
  const resolveRole = (target: string) => (): readonly NodeId[] => {
    if (target === 'controllers') return controllerIds;
    if (target === 'producers') return producerIds;
    if (target === 'consumers') return consumerIds;
    const consumer = /^consumer\(([^/)]+)(?:\/(\d+))?\)$/.exec(target);
    if (consumer !== null) {
      const id = consumersOf.get(consumer[1])?.[Number(consumer[2] ?? 1) - 1];
      return id === undefined ? [] : [id];
    }
    if (target === 'controller') {
      const active = controllerIds.find((id) => (world.machine(id).process as Controller | undefined)?.isActive);
      return active === undefined ? [] : [active];
    }
    const m = /^(leader|follower)\((.+)\)$/.exec(target) as RegExpExecArray;
    // With no active controller (a quorum that lost its majority), the most advanced live
    // controller's image still says who leads: the brokers go on with what they last learnt.
    const state = (activeController() ?? mostAdvancedController())?.image.partitions.get(m[2]);
    if (state === undefined) return [];
    if (m[1] === 'leader') return state.leader >= 0 ? [state.leader] : [];
    const follower = state.replicas.find((r) => r !== state.leader);
    return follower === undefined ? [] : [follower];
  };
  const allNodes = () => world.machines().map((m) => m.id);
  const nemesis = new ScriptedNemesis(world, (scenario.faults ?? []).map((f) => faultStep(f, brokerIds, resolveRole, allNodes)));
  const recorder = recording.attach(world, brokerIds, (id) => controllerIds.includes(id), activeController);
  return { world, brokerIds, controllerIds, invariants: checker, nemesis, activeController, recorder };
}

// ---------------------------------------------------------------- report recording

/**
 * The report's recorder (src/scenario/run-recorder.ts), wired into the world's hooks before the
 * recorder itself can exist (it needs the world). Off: no hooks at all, so the hot path is untouched.
 */
function withReportRecording(on: boolean): {
  hooks: { onHistory?: (timeUs: number, node: NodeId, entry: { readonly type: string } & Record<string, unknown>) => void; onSend?: MessageObserver; onDeliver?: MessageObserver };
  attach: (world: World, brokerIds: readonly number[], isController: (id: NodeId) => boolean, active: () => Controller | undefined) => RunRecorder | undefined;
} {
  if (!on) return { hooks: {}, attach: () => undefined };
  let recorder: RunRecorder | undefined;
  return {
    hooks: {
      onHistory: (t, n, e) => recorder?.onHistory(t, n, e),
      onSend: (t, f, to, m) => recorder?.onSend(t, f, to, m),
      onDeliver: (t, f, to, m) => recorder?.onDeliver(t, f, to, m),
    },
    attach: (world, brokerIds, isController, active) => (recorder = new RunRecorder(world, brokerIds, isController, active)),
  };
}

/**
 * Runs the fault window up to just before the first scripted fault, where the recorder snapshots
 * every partition's replica logs. Stopping the engine between events does not change the run: the
 * trace hash is the same as with one `runUntil`.
 */
function runRecordingFaultStarts(world: World, recorder: RunRecorder, scenario: Scenario, faultWindowUs: number): void {
  const starts = [...new Set((scenario.faults ?? []).map((f) => f.at))].filter((t) => t > 0 && t <= faultWindowUs).sort((a, b) => a - b).slice(0, 1);
  for (const t of starts) {
    if (t - 1 < world.nowUs) continue;
    world.runUntil(t - 1);
    const f = (scenario.faults ?? []).find((x) => x.at === t) as Record<string, unknown>;
    const action = Object.keys(f).find((k) => k !== 'at' && k !== 'for') ?? 'fault';
    const target = f[action];
    recorder.beforeFault(t - 1, typeof target === 'string' || typeof target === 'number' ? `${action}: ${target}` : action);
  }
}


/**
 * Runs a Kafka scenario: brokers and a KRaft controller quorum, the scenario's topics and
 * producer workloads, its scripted faults; then heals everything and checks what producers were
 * told against what the cluster kept (`lost-write`), with the replication invariants checked as
 * events happen.
 */
export function simulateKafka(scenario: Scenario, options: SimulateOptions = {}): RunResult & { detail: RunDetail } {
  const started = options.wallClockMs?.() ?? 0;
  const seed = options.seed ?? scenario.seed ?? 1;
  const faultWindowUs = options.durationUs ?? scenario.duration ?? DEFAULT_DURATION_US;
  const { world, brokerIds, invariants, nemesis, activeController, recorder } = buildKafkaRun(scenario, seed, faultWindowUs, { record: options.record !== false });
  if (recorder !== undefined) runRecordingFaultStarts(world, recorder, scenario, faultWindowUs);
  runFaultWindowThenHeal(world, nemesis, faultWindowUs, healPhaseUs(scenario));

  const names = new Map(world.machines().map((m) => [m.id, m.name]));
  const logs = finalLogs(world, brokerIds, activeController);
  const valueAt = new Map<string, Map<number, string>>([...logs].map(([p, records]) => [p, new Map(records.map((r) => [r.offset, r.value]))]));
  const violations: Violation[] = [
    ...lostWrites(world, brokerIds, activeController),
    ...checkDuplicates(logs),
    ...checkNonmonotonicSends(world.history, (id) => names.get(id) ?? String(id), (p, offset, value) => valueAt.get(p)?.get(offset) === value),
    ...checkInconsistentOffsets(world.history),
    ...checkLostUnacknowledgedWrites(world.history, (topic) => valuesOfTopic(logs, topic), (id) => names.get(id) ?? String(id)),
    ...checkPollOrder(world.history, (id) => names.get(id) ?? String(id)),
    ...checkDuplicateProcessing(world.history),
    ...checkLostProcessing(world.history, valueAt),
    ...checkUnseen(world.history, consumerGroups(scenario), (p, offset, value) => valueAt.get(p)?.get(offset) === value),
    ...checkNoDoubleAssignment(world.history),
    ...checkMonotonicCommittedOffsets(world.history),
    ...invariants.violations,
  ];
  const labelled = labelFindings(violations, configFacts(scenario));
  violations.splice(0, violations.length, ...labelled);
  violations.sort((a, b) => a.atMs - b.atMs);
  const figures = recorder?.finish(violations);
  const sends = world.history.filter((h) => h.entry.type === 'send');
  const acked = sends.filter((h) => h.entry.phase === 'ok');
  const result = runResult(
    { scenario, options, seed, startedMs: started, world, nemesis, faultWindowUs },
    violations,
    {
      sent: sends.filter((h) => h.entry.phase === 'invoke').length,
      acked: acked.length,
      polled: world.history.reduce((n, h) => (h.entry.type === 'poll' ? n + (h.entry.records as unknown[]).length : n), 0),
    },
    world
      .machines()
      .filter((m) => m.id >= FIRST_PRODUCER_ID && m.id < FIRST_CONSUMER_ID)
      .map((m) => ({
        node: m.name,
        acked: acked.filter((h) => h.node === m.id).length,
        lost: violations.filter((v) => v.check === 'lost-write' && v.evidence?.producer === m.name).length,
      })),
  );
  result.stats.producerErrors = producerErrors(world);
  if (figures !== undefined) result.detail.figures = figures;
  return result;
}

/**
 * `lost-write` (Jepsen's Kafka checker): a record a producer was told is written (ok, with its
 * offset) is absent from its partition's log after everything healed. The log is the leader's;
 * a partition left with no leader is unavailable, which is not loss, so then every replica's
 * log counts.
 */
function lostWrites(world: World, brokerIds: readonly number[], controller: () => Controller | undefined): Violation[] {
  const present = new Map<string, Set<string>>();
  const logOf = (partition: string): Set<string> => {
    let set = present.get(partition);
    if (set !== undefined) return set;
    set = new Set();
    const leader = controller()?.image.partitions.get(partition)?.leader ?? -1;
    for (const id of leader > 0 ? [leader] : brokerIds) {
      const part = (world.machine(id).process as Broker | undefined)?.replicaManager.partition(partition);
      for (const b of part?.log.batchesFrom(part.log.logStartOffset) ?? []) for (const r of b.records) set.add(r.value);
    }
    present.set(partition, set);
    return set;
  };
  const names = new Map(world.machines().map((m) => [m.id, m.name]));
  const out: Violation[] = [];
  for (const h of world.history) {
    const e = h.entry;
    if (e.type !== 'send' || e.phase !== 'ok') continue;
    const partition = tpKey(String(e.topic), Number(e.partition));
    const value = String(e.value);
    if (logOf(partition).has(value)) continue;
    out.push({
      check: 'lost-write',
      atMs: h.timeUs / 1000,
      partition,
      offset: Number(e.offset),
      message: `${names.get(h.node)} was told ${value} was written to ${partition} at offset ${String(e.offset)}, but after healing no replica's log holds it`,
      evidence: { value, partition, offset: e.offset, producer: names.get(h.node), ackedAtMs: h.timeUs / 1000 },
    });
  }
  return out;
}

/** Every value any partition of `topic` holds after healing. */
function valuesOfTopic(logs: ReadonlyMap<string, readonly { value: string }[]>, topic: string): Set<string> {
  const out = new Set<string>();
  for (const [partition, records] of logs) if (partition.slice(0, partition.lastIndexOf('-')) === topic) for (const r of records) out.add(r.value);
  return out;
}

/** How often producers met each error on a produce attempt (NOT_ENOUGH_REPLICAS, NETWORK_EXCEPTION...). */
function producerErrors(world: World): Record<string, number> {
  const out: Record<string, number> = {};
  for (const h of world.history) if (h.entry.type === 'produce-error') out[String(h.entry.error)] = (out[String(h.entry.error)] ?? 0) + 1;
  return out;
}

/** Each consumer group and the topics its members subscribe to. */
function consumerGroups(scenario: Scenario): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const c of scenario.consumers ?? []) out.set(c.group, [...new Set([...(out.get(c.group) ?? []), ...c.topics])]);
  return out;
}

/**
 * How long the liveness phase runs after the heal: long enough for the cluster to settle, and,
 * with consumers, for a crashed member's session to expire, the group to rebalance and its
 * members to read what was written (unseen is checked after it).
 */
function healPhaseUs(scenario: Scenario): number {
  const consumers = scenario.consumers ?? [];
  if (consumers.length === 0) return HEAL_PHASE_US;
  const cluster = (scenario.cluster.config ?? {}) as Record<string, unknown>;
  const initialDelayMs = Number(cluster['group.initial.rebalance.delay.ms'] ?? DEFAULT_BROKER_CONFIG['group.initial.rebalance.delay.ms']);
  const sessionMs = Math.max(...consumers.map((c) => parseConsumerConfig({ ...(c.config as ConsumerConfigInput), 'group.id': c.group })['session.timeout.ms']));
  return HEAL_PHASE_US + Math.round((sessionMs + initialDelayMs) * 1000);
}

/** What the scenario's configuration permits to go wrong (src/check/permissions.ts). */
function configFacts(scenario: Scenario): ConfigFacts {
  const { preVote: _preVote, ...switches } = scenario.protocol ?? {};
  const effective = { ...CURRENT_KAFKA, ...switches };
  const producers = new Map<string, { acks: number; idempotent: boolean }>();
  let n = 0;
  for (const p of scenario.producers ?? []) {
    const config = parseProducerConfig(p.config);
    for (let i = 0; i < (p.count ?? 1); i++) producers.set(`producer-${++n}`, { acks: config.acks, idempotent: config['enable.idempotence'] && effective.idempotentProducer });
  }
  const cluster = (scenario.cluster.config ?? {}) as Record<string, unknown>;
  const topics = scenario.topics ?? [];
  const uncleanElection = cluster['unclean.leader.election.enable'] === true || topics.some((t) => (t.config as Record<string, unknown> | undefined)?.['unclean.leader.election.enable'] === true);
  const fsyncEveryMessage = cluster['log.flush.interval.messages'] === 1 && topics.every((t) => { const f = (t.config as Record<string, unknown> | undefined)?.['flush.messages']; return f === undefined || f === 1; });
  const powerLoss = (scenario.faults ?? []).some((f) => (f as Record<string, unknown>)['power-loss'] !== undefined);
  return {
    producers,
    uncleanElection,
    powerLossWithoutFsync: powerLoss && !fsyncEveryMessage,
    switchesOff: Object.entries(effective).filter(([, on]) => on === false).map(([name]) => name),
    singleReplicaOffsets: cluster['offsets.topic.replication.factor'] === 1,
    asyncProcessingGroups: new Set((scenario.consumers ?? []).filter((c) => c.processing?.commit === 'async-processing').map((c) => c.group)),
  };
}

/**
 * Each partition's log after healing, in offset order: the leader's, or, for a partition left
 * without a leader, the longest log among its replicas. The internal __consumer_offsets topic is
 * left out: its records are the coordinators', checked by the group checks.
 */
function finalLogs(world: World, brokerIds: readonly number[], controller: () => Controller | undefined): Map<string, { offset: number; value: string }[]> {
  const out = new Map<string, { offset: number; value: string }[]>();
  const image = controller()?.image;
  if (image === undefined) return out;
  for (const [key, p] of image.partitions) {
    if (p.topic === GROUP_METADATA_TOPIC_NAME) continue;
    let best: { offset: number; value: string }[] = [];
    for (const id of p.leader > 0 ? [p.leader] : brokerIds) {
      const part = (world.machine(id).process as Broker | undefined)?.replicaManager.partition(key);
      if (part === undefined) continue;
      const records: { offset: number; value: string }[] = [];
      for (const b of part.log.batchesFrom(part.log.logStartOffset)) b.records.forEach((r, i) => records.push({ offset: b.baseOffset + i, value: r.value }));
      if (records.length > best.length) best = records;
    }
    out.set(key, best);
  }
  return out;
}

function pick<T extends object, K extends string>(o: T, keys: readonly K[]): Record<K, never> {
  const out: Record<string, unknown> = {};
  for (const k of keys) if ((o as Record<string, unknown>)[k] !== undefined) out[k] = (o as Record<string, unknown>)[k];
  return out as Record<K, never>;
}
