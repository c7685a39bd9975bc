import type { Controller } from '../kafka/controller/controller.js';
import type { TimeUs } from '../engine/time.js';
import { buildKafkaRun } from './kafka-simulation.js';
import type { Scenario } from './load.js';

/** A partition as `kafka-topics.sh --describe` shows it, from the active controller's image. */
export interface PartitionDescription {
  topic: string;
  partition: number;
  leader: number;
  leaderEpoch: number;
  replicas: number[];
  isr: number[];
  elr: number[];
  lastKnownElr: number[];
}

export interface ClusterDescription {
  atUs: TimeUs;
  /** The controller whose image is shown, and whether it is the active one. */
  source: { controller: number; active: boolean } | undefined;
  topics: { name: string; partitionCount: number; replicationFactor: number; configs: Record<string, string | number | boolean>; partitions: PartitionDescription[] }[];
  brokers: { id: number; rack: string; process: string; registered: boolean; fenced: boolean; brokerEpoch: number }[];
  quorum: { id: number; process: string; role: string; epoch: number; leaderId: number | undefined; highWatermark: number | undefined; logEndOffset: number }[];
}

/**
 * The cluster's state at a moment of a scenario run (faults applied as scheduled up to then):
 * what `kafka-topics.sh --describe` and `kafka-metadata-quorum.sh describe --status` would show,
 * read from the active controller (or, with none active, the first live one).
 */
export function describeAt(scenario: Scenario, options: { seed?: number | string; atUs: TimeUs }): ClusterDescription {
  const seed = options.seed ?? scenario.seed ?? 1;
  const run = buildKafkaRun(scenario, seed, scenario.duration ?? 30_000_000);
  run.world.runUntil(options.atUs);
  const controllers = run.controllerIds.map((id) => ({ id, c: run.world.machine(id).process as Controller | undefined }));
  const active = controllers.find((x) => x.c?.isActive);
  const source = active ?? controllers.find((x) => x.c !== undefined);
  const image = source?.c?.image;
  const topics = (scenario.topics ?? []).map((t) => {
    const partitions: PartitionDescription[] = [];
    for (let p = 0; p < t.partitions; p++) {
      const s = image?.partitions.get(`${t.name}-${p}`);
      if (s === undefined) continue;
      partitions.push({ topic: t.name, partition: p, leader: s.leader, leaderEpoch: s.leaderEpoch, replicas: [...s.replicas], isr: [...s.isr], elr: [...s.elr], lastKnownElr: [...s.lastKnownElr] });
    }
    return { name: t.name, partitionCount: t.partitions, replicationFactor: t['replication.factor'], configs: { ...(t.config ?? {}) }, partitions };
  });
  const brokers = run.brokerIds.map((id) => {
    const m = run.world.machine(id);
    const reg = image?.brokers.get(id);
    return { id, rack: m.rack, process: m.powered ? m.state : 'powered-off', registered: reg !== undefined, fenced: reg?.fenced ?? true, brokerEpoch: reg?.brokerEpoch ?? -1 };
  });
  const quorum = controllers.map(({ id, c }) => {
    const m = run.world.machine(id);
    const q = c?.quorum;
    return { id, process: m.powered ? m.state : 'powered-off', role: q?.role ?? 'down', epoch: q?.epoch ?? -1, leaderId: q?.leaderId, highWatermark: q?.highWatermark, logEndOffset: q?.logEndOffset ?? -1 };
  });
  return { atUs: run.world.nowUs, source: source === undefined ? undefined : { controller: source.id, active: source === active }, topics, brokers, quorum };
}

/** The description in the layout of `kafka-topics.sh --describe`, then the quorum's status. */
export function formatDescription(d: ClusterDescription): string {
  const lines: string[] = [];
  const ids = (xs: readonly number[]) => xs.join(',');
  lines.push(`At ${(d.atUs / 1e6).toFixed(3)} s, as controller ${d.source?.controller ?? '(none)'} sees it${d.source?.active === false ? ' (not active: its view may be stale)' : ''}:`);
  for (const t of d.topics) {
    const configs = Object.entries(t.configs).map(([k, v]) => `${k}=${String(v)}`).join(',');
    lines.push(`Topic: ${t.name}\tPartitionCount: ${t.partitionCount}\tReplicationFactor: ${t.replicationFactor}\tConfigs: ${configs}`);
    for (const p of t.partitions) {
      const elr = p.elr.length > 0 || p.lastKnownElr.length > 0 ? `\tElr: ${ids(p.elr)}\tLastKnownElr: ${ids(p.lastKnownElr)}` : '';
      lines.push(`\tTopic: ${t.name}\tPartition: ${p.partition}\tLeader: ${p.leader < 0 ? 'none' : p.leader}\tReplicas: ${ids(p.replicas)}\tIsr: ${ids(p.isr)}${elr}`);
    }
  }
  lines.push('');
  lines.push('Brokers:');
  for (const b of d.brokers) lines.push(`\tBroker: ${b.id}\tRack: ${b.rack}\tProcess: ${b.process}\t${b.registered ? `BrokerEpoch: ${b.brokerEpoch}\t${b.fenced ? 'Fenced' : 'Unfenced'}` : 'Unregistered'}`);
  const leader = d.quorum.find((q) => q.role === 'leader');
  lines.push('');
  lines.push(`Quorum: LeaderId: ${leader?.id ?? 'none'}\tLeaderEpoch: ${leader?.epoch ?? -1}\tHighWatermark: ${leader?.highWatermark ?? -1}\tCurrentVoters: [${d.quorum.map((q) => q.id).join(',')}]`);
  for (const q of d.quorum) lines.push(`\tNode: ${q.id}\tProcess: ${q.process}\tRole: ${q.role}\tEpoch: ${q.epoch}\tLogEndOffset: ${q.logEndOffset}\tHighWatermark: ${q.highWatermark ?? -1}`);
  return lines.join('\n');
}
