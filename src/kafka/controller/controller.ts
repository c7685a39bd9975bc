import { Errors, type ErrorCode } from '../protocol/errors.js';
import {
  wireSize,
  type AlterPartitionItemResponse,
  type AlterPartitionRequest,
  type BrokerHeartbeatRequest,
  type BrokerRegistrationRequest,
  type KafkaMessage,
  type MetadataUpdate,
} from '../protocol/messages.js';
import { CURRENT_KAFKA, type ProtocolSwitches } from '../protocol/switches.js';
import { tpKey } from '../protocol/topic-partition.js';
import type { DiskCompletion } from '../../world/disk.js';
import type { Message, Node, NodeContext, NodeId } from '../../world/node.js';
import { MetadataImage, type PartitionState } from '../metadata/metadata-image.js';
import type { MetadataRecord, PartitionRecord } from '../metadata/metadata-records.js';
import { buildPartitionChange } from './partition-change-builder.js';
import { StripedReplicaPlacer } from './striped-replica-placer.js';
import { KafkaRaftClient, type CommittedEntry } from '../raft/kafka-raft-client.js';

/** A topic the controller creates once enough brokers are up (a CreateTopics at startup). */
export interface TopicSpec {
  readonly name: string;
  readonly partitions: number;
  readonly replicationFactor: number;
  readonly config?: Readonly<Record<string, string | number | boolean>>;
}

/** Controller configuration, Kafka's names and defaults (KRAFT.md §1). */
export interface ControllerConfig {
  readonly 'broker.session.timeout.ms': number;
  readonly 'min.insync.replicas': number;
  readonly 'unclean.leader.election.enable': boolean;
  /** Periodically move leadership back to each partition's preferred replica (the first in its replica list). */
  readonly 'auto.leader.rebalance.enable': boolean;
  readonly 'leader.imbalance.check.interval.seconds': number;
}

export const DEFAULT_CONTROLLER_CONFIG: ControllerConfig = Object.freeze({
  'broker.session.timeout.ms': 9_000,
  'min.insync.replicas': 1,
  'unclean.leader.election.enable': false,
  'auto.leader.rebalance.enable': true,
  'leader.imbalance.check.interval.seconds': 300,
});

export interface ControllerOptions {
  readonly controllerId: number;
  /** controller.quorum.voters: every controller's id (default: this one alone). */
  readonly voters?: readonly number[];
  /** KIP-996 pre-vote (on by default). */
  readonly preVote?: boolean;
  /**
   * Also push what changed to every registered broker after each commit, and catch up lagging
   * brokers from their heartbeats (off by default). Kafka's brokers fetch the metadata log
   * themselves as Raft observers, and ours do; the push serves test rigs whose brokers do not.
   */
  readonly pushMetadata?: boolean;
  readonly topics?: readonly TopicSpec[];
  /**
   * Create `topics` once this many brokers are active (default: the largest replication factor).
   * A cluster set up by a script creates its topics once every broker is up; placing them on the
   * first few brokers to register would pile every replica there.
   */
  readonly createTopicsWhenBrokers?: number;
  readonly config?: Partial<ControllerConfig>;
  readonly switches?: Partial<ProtocolSwitches>;
}

const FENCE_CHECK_TIMER = 'fence-check';
const LEADER_BALANCE_TIMER = 'leader-balance';

/** A request or timer the controller handles, one at a time (QuorumController's event queue). */
type ControllerEvent = { kind: 'message'; from: NodeId; message: KafkaMessage } | { kind: 'fence-check' } | { kind: 'balance-leaders' };

/** Records appended to the quorum and not yet committed, with what to do once they are. */
interface PendingWrite {
  readonly lastOffset: number;
  readonly reply: (() => void) | undefined;
}

interface HeartbeatState {
  lastContactMs: number;
  fenced: boolean;
  metadataOffset: number;
}

/**
 * A KRaft controller (metadata/.../controller/QuorumController.java, ClusterControlManager,
 * ReplicationControlManager, BrokerHeartbeatManager; see KRAFT.md §7–§11). The controllers form
 * a Raft quorum (KafkaRaftClient, ./raft/); the leader is the active controller. It registers
 * brokers (a broker's epoch is the offset of its registration record), fences those whose
 * heartbeats stop for broker.session.timeout.ms, elects leaders, validates AlterPartition, and
 * places replicas.
 *
 * Every decision is a record appended to the quorum's metadata log; it counts once the quorum
 * commits it (a majority has it fsync'd), and every controller applies committed records to its
 * image. Events are handled one at a time: while a batch is being committed, later events wait.
 * Brokers are sent what changed after each commit and catch up from their heartbeats; a
 * controller that is not active answers NOT_CONTROLLER and the broker tries another.
 */
export class Controller implements Node {
  readonly image = new MetadataImage();
  private readonly config: ControllerConfig;
  private readonly switches: ProtocolSwitches;
  private readonly heartbeats = new Map<number, HeartbeatState>();
  private readonly queue: ControllerEvent[] = [];
  private writing = false;
  private pushedOffset = -1;
  private topicsCreated = false;
  private fenceTimer = -1;
  private placerRng;
  private readonly raft: KafkaRaftClient;
  /** The quorum leader, once its epoch's LeaderChange entry is committed and its image caught up. */
  private active = false;
  private pending: PendingWrite | undefined;
  private balanceTimer = -1;

  constructor(
    private readonly ctx: NodeContext,
    private readonly options: ControllerOptions,
  ) {
    this.config = { ...DEFAULT_CONTROLLER_CONFIG, ...options.config };
    this.switches = { ...CURRENT_KAFKA, ...options.switches };
    this.placerRng = ctx.rng.fork('placer');
    this.raft = new KafkaRaftClient(ctx, {
      nodeId: options.controllerId,
      voters: options.voters ?? [options.controllerId],
      preVote: options.preVote,
      onCommit: (entries) => this.onCommitted(entries),
      onBecomeLeader: (epoch) => this.onBecomeLeader(epoch),
      onResign: () => this.onResign(),
    });
  }

  /** The controller's Raft client, for checks that read its metadata log and election state. */
  get raftClient(): KafkaRaftClient {
    return this.raft;
  }

  /** Whether this controller is the active one. */
  get isActive(): boolean {
    return this.active;
  }

  /** The quorum's view from this controller: role, epoch, leader, high watermark. */
  get quorum(): { role: string; epoch: number; leaderId: number | undefined; highWatermark: number | undefined; logEndOffset: number } {
    return { role: this.raft.role, epoch: this.raft.epoch, leaderId: this.raft.leaderId, highWatermark: this.raft.highWatermark, logEndOffset: this.raft.logEndOffset };
  }

  start(): void {
    this.ctx.record({ type: 'controller-start', controller: this.options.controllerId });
    this.raft.start();
  }

  onMessage(from: NodeId, message: Message): void {
    if (this.raft.handleMessage(from, message)) return;
    this.queue.push({ kind: 'message', from, message: message as KafkaMessage });
    this.drain();
  }

  onTimer(name: string, data: unknown): void {
    if (this.raft.handleTimer(name, data)) return;
    if (name === FENCE_CHECK_TIMER) {
      this.fenceTimer = -1;
      this.queue.push({ kind: 'fence-check' });
      this.drain();
    } else if (name === LEADER_BALANCE_TIMER) {
      this.balanceTimer = -1;
      this.queue.push({ kind: 'balance-leaders' });
      this.drain();
      this.scheduleLeaderBalance();
    }
  }

  onDiskComplete(c: DiskCompletion): void {
    this.raft.handleDiskComplete(c);
  }

  // ------------------------------------------------------------ the quorum

  /** Every controller applies what the quorum commits, in order. */
  private onCommitted(entries: CommittedEntry[]): void {
    for (const e of entries) this.image.apply(e.record as MetadataRecord, e.offset);
    const pending = this.pending;
    if (pending === undefined || this.image.offset < pending.lastOffset) return;
    this.pending = undefined;
    this.writing = false;
    this.ctx.record({ type: 'metadata-commit', controller: this.options.controllerId, offset: this.image.offset });
    pending.reply?.();
    this.pushMetadata();
    this.maybeCreateTopics();
    this.scheduleFenceCheck();
    this.drain();
  }

  /**
   * QuorumController's claim: the new leader's LeaderChange entry is committed, so its image
   * holds everything committed before. Every broker gets a fresh session
   * (BrokerHeartbeatManager.register on failover).
   */
  private onBecomeLeader(epoch: number): void {
    this.active = true;
    this.topicsCreated = this.image.topics.size > 0;
    this.pushedOffset = this.image.offset;
    const nowMs = this.nowMs();
    this.heartbeats.clear();
    for (const b of this.image.brokers.values()) this.heartbeats.set(b.brokerId, { lastContactMs: nowMs, fenced: b.fenced, metadataOffset: -1 });
    this.ctx.record({ type: 'controller-active', controller: this.options.controllerId, epoch, metadataOffset: this.image.offset });
    this.maybeCreateTopics();
    this.scheduleFenceCheck();
    this.scheduleLeaderBalance();
    this.drain();
  }

  /**
   * QuorumController's periodic electPreferred task (maybeScheduleNextBalancePartitionLeaders):
   * every leader.imbalance.check.interval.seconds while active, when auto.leader.rebalance.enable.
   */
  private scheduleLeaderBalance(): void {
    if (this.balanceTimer >= 0) this.ctx.cancelTimer(this.balanceTimer);
    this.balanceTimer = -1;
    if (!this.active || !this.config['auto.leader.rebalance.enable']) return;
    this.balanceTimer = this.ctx.setTimer(LEADER_BALANCE_TIMER, this.config['leader.imbalance.check.interval.seconds'] * 1_000_000);
  }

  /**
   * ReplicationControlManager.maybeBalancePartitionLeaders: for every partition whose leader is
   * not its preferred replica, a PREFERRED election (PartitionChangeBuilder.electPreferredLeader):
   * the preferred replica leads if it is in the ISR and active; otherwise nothing changes. KRaft
   * has no imbalance ratio to cross first (leader.imbalance.per.broker.percentage is ZooKeeper's).
   */
  private maybeBalancePartitionLeaders(): MetadataRecord[] {
    const records: MetadataRecord[] = [];
    for (const p of this.image.partitions.values()) {
      if (p.replicas.length === 0 || p.leader === p.replicas[0]) continue;
      const { minIsr, unclean } = this.topicConfig(p.topic);
      const result = buildPartitionChange(p, {
        targetIsr: p.isr,
        isAcceptableLeader: (r) => this.image.isActive(r),
        uncleanAllowed: unclean,
        elrEnabled: this.switches.eligibleLeaderReplicas,
        minIsr: Math.min(minIsr, p.replicas.length),
        preferred: true,
      });
      if (result.record?.leader === p.replicas[0]) {
        this.ctx.record({ type: 'preferred-leader-election', controller: this.options.controllerId, partition: tpKey(p.topic, p.partition), leader: p.replicas[0], previousLeader: p.leader });
        records.push(result.record);
      }
    }
    return records;
  }

  /** No longer the leader: later requests are answered NOT_CONTROLLER. */
  private onResign(): void {
    if (!this.active && this.pending === undefined) return;
    this.active = false;
    this.ctx.record({ type: 'controller-resigned', controller: this.options.controllerId });
    // A write in flight may or may not commit under the next leader; its requester is not told
    // either way and will retry after its request times out, as with a failed-over controller.
    this.pending = undefined;
    this.writing = false;
    if (this.fenceTimer >= 0) this.ctx.cancelTimer(this.fenceTimer);
    this.fenceTimer = -1;
    this.drain();
  }

  // ------------------------------------------------------------ the event loop

  private drain(): void {
    while (!this.writing && this.queue.length > 0) {
      const event = this.queue.shift() as ControllerEvent;
      const result = this.handle(event);
      this.commit(result.records, result.reply);
    }
  }

  /** Appends `records` to the quorum; once committed they are applied, then the reply goes out. */
  private commit(records: MetadataRecord[], reply: (() => void) | undefined): void {
    if (records.length === 0) {
      reply?.();
      this.scheduleFenceCheck();
      return;
    }
    const lastOffset = this.raft.append(records);
    if (lastOffset === undefined) {
      // Leadership was lost between the decision and the append: nothing was written.
      this.active = false;
      return;
    }
    this.writing = true;
    this.pending = { lastOffset, reply };
  }

  private handle(event: ControllerEvent): { records: MetadataRecord[]; reply?: () => void } {
    if (!this.active) return { records: [], reply: event.kind === 'message' ? this.notController(event.from, event.message) : undefined };
    if (event.kind === 'fence-check') return { records: this.maybeFenceOneStaleBroker() };
    if (event.kind === 'balance-leaders') return { records: this.maybeBalancePartitionLeaders() };
    const m = event.message;
    switch (m.type) {
      case 'BrokerRegistrationRequest':
        return this.registerBroker(event.from, m);
      case 'BrokerHeartbeatRequest':
        return this.processHeartbeat(event.from, m);
      case 'AlterPartitionRequest':
        return this.alterPartition(event.from, m);
      default:
        return { records: [] };
    }
  }

  /** A standby controller's answer to a broker's request: try the active one. */
  private notController(from: NodeId, m: KafkaMessage): (() => void) | undefined {
    const correlationId = (m as { correlationId?: number }).correlationId ?? 0;
    switch (m.type) {
      case 'BrokerRegistrationRequest':
        return () => this.ctx.send(from, { type: 'BrokerRegistrationResponse', correlationId, error: Errors.NOT_CONTROLLER, brokerEpoch: -1, sizeBytes: wireSize(1) });
      case 'BrokerHeartbeatRequest':
        return () => this.ctx.send(from, { type: 'BrokerHeartbeatResponse', correlationId, error: Errors.NOT_CONTROLLER, isCaughtUp: false, isFenced: true, shouldShutDown: false, sizeBytes: wireSize(1) });
      case 'AlterPartitionRequest':
        return () => this.ctx.send(from, { type: 'AlterPartitionResponse', correlationId, error: Errors.NOT_CONTROLLER, partitions: [], sizeBytes: wireSize(0) });
      default:
        return undefined;
    }
  }

  // ------------------------------------------------------------ brokers

  private hasValidSession(brokerId: number, nowMs: number): boolean {
    const hb = this.heartbeats.get(brokerId);
    return hb !== undefined && !hb.fenced && hb.lastContactMs + this.config['broker.session.timeout.ms'] >= nowMs;
  }

  /**
   * ClusterControlManager.registerBroker. A new incarnation is refused while the old one's
   * session is still valid; once accepted, the old incarnation's replicas leave every ISR
   * (it did not shut down cleanly), and the new one starts fenced.
   */
  private registerBroker(from: NodeId, req: BrokerRegistrationRequest): { records: MetadataRecord[]; reply: () => void } {
    const nowMs = this.nowMs();
    const existing = this.image.brokers.get(req.brokerId);
    const respond = (error: ErrorCode, brokerEpoch: number) => () =>
      this.ctx.send(from, { type: 'BrokerRegistrationResponse', correlationId: req.correlationId, error, brokerEpoch, sizeBytes: wireSize(1) });
    if (existing !== undefined && existing.incarnationId === req.incarnationId) return { records: [], reply: respond(Errors.NONE, existing.brokerEpoch) };
    if (existing !== undefined && this.hasValidSession(req.brokerId, nowMs)) return { records: [], reply: respond(Errors.DUPLICATE_BROKER_REGISTRATION, -1) };
    const records: MetadataRecord[] = [];
    if (existing !== undefined) {
      // handleBrokerShutdown: a clean shutdown saved the epoch it sends back as previousBrokerEpoch
      // (KIP-966); only an unclean one also leaves the ELR.
      const clean = req.previousBrokerEpoch === existing.brokerEpoch;
      records.push(...this.removeFromIsrs(req.brokerId, this.switches.eligibleLeaderReplicas && !clean));
    }
    // The records go to the log as one batch starting at its end offset.
    const brokerEpoch = this.raft.logEndOffset + records.length;
    records.push({ type: 'RegisterBrokerRecord', brokerId: req.brokerId, incarnationId: req.incarnationId, brokerEpoch, rack: req.rack, fenced: true });
    this.heartbeats.set(req.brokerId, { lastContactMs: nowMs, fenced: true, metadataOffset: -1 });
    return { records, reply: respond(Errors.NONE, brokerEpoch) };
  }

  /** ReplicationControlManager.processBrokerHeartbeat and calculateNextBrokerState. */
  private processHeartbeat(from: NodeId, req: BrokerHeartbeatRequest): { records: MetadataRecord[]; reply: () => void } {
    const nowMs = this.nowMs();
    const reg = this.image.brokers.get(req.brokerId);
    let shouldShutDown = false;
    const respond = (error: ErrorCode, isFenced: boolean) => () => {
      this.ctx.send(from, { type: 'BrokerHeartbeatResponse', correlationId: req.correlationId, error, isCaughtUp: reg !== undefined && req.currentMetadataOffset >= reg.brokerEpoch, isFenced, shouldShutDown, sizeBytes: wireSize(1) });
      if (error === Errors.NONE && this.options.pushMetadata === true && req.currentMetadataOffset < this.image.offset) this.sendMetadata(from, req.currentMetadataOffset);
    };
    if (reg === undefined || reg.brokerEpoch !== req.brokerEpoch) return { records: [], reply: respond(Errors.STALE_BROKER_EPOCH, true) };
    const hb = this.heartbeats.get(req.brokerId) ?? { lastContactMs: nowMs, fenced: reg.fenced, metadataOffset: -1 };
    hb.lastContactMs = nowMs;
    hb.metadataOffset = req.currentMetadataOffset;
    this.heartbeats.set(req.brokerId, hb);
    const records: MetadataRecord[] = [];
    const leadsSomething = () => [...this.image.partitions.values()].some((p) => p.leader === reg.brokerId);
    if (req.wantShutDown && (reg.fenced || (reg.inControlledShutdown && !leadsSomething()))) {
      // calculateNextBrokerState: SHUTDOWN_NOW, and the broker is fenced, so its next
      // incarnation may register at once.
      shouldShutDown = true;
      if (!reg.fenced) {
        hb.fenced = true;
        records.push({ type: 'BrokerRegistrationChangeRecord', brokerId: reg.brokerId, brokerEpoch: reg.brokerEpoch, fenced: true });
      }
    } else if (req.wantShutDown && !reg.inControlledShutdown) {
      // handleBrokerInControlledShutdown: in KRaft the broker leaves every ISR, not only leadership.
      records.push({ type: 'BrokerRegistrationChangeRecord', brokerId: reg.brokerId, brokerEpoch: reg.brokerEpoch, inControlledShutdown: true });
      records.push(...this.removeFromIsrs(reg.brokerId, false));
      this.ctx.record({ type: 'broker-controlled-shutdown', controller: this.options.controllerId, broker: reg.brokerId });
    } else if (reg.fenced && !req.wantFence && !req.wantShutDown && req.currentMetadataOffset >= reg.brokerEpoch) {
      hb.fenced = false;
      records.push({ type: 'BrokerRegistrationChangeRecord', brokerId: reg.brokerId, brokerEpoch: reg.brokerEpoch, fenced: false });
      records.push(...this.electLeaderless(reg.brokerId));
    }
    return { records, reply: respond(Errors.NONE, hb.fenced) };
  }

  /** maybeFenceOneStaleBroker: the oldest unfenced broker whose session expired; one per event. */
  private maybeFenceOneStaleBroker(): MetadataRecord[] {
    const nowMs = this.nowMs();
    let oldest: [number, HeartbeatState] | undefined;
    for (const entry of this.heartbeats) {
      if (entry[1].fenced) continue;
      if (oldest === undefined || entry[1].lastContactMs < oldest[1].lastContactMs) oldest = entry;
    }
    if (oldest === undefined || this.hasValidSession(oldest[0], nowMs)) return [];
    const [brokerId, hb] = oldest;
    hb.fenced = true;
    const reg = this.image.brokers.get(brokerId);
    if (reg === undefined) return [];
    this.ctx.record({ type: 'broker-fenced', controller: this.options.controllerId, broker: brokerId, brokerEpoch: reg.brokerEpoch });
    return [...this.removeFromIsrs(brokerId, false), { type: 'BrokerRegistrationChangeRecord', brokerId, brokerEpoch: reg.brokerEpoch, fenced: true }];
  }

  private scheduleFenceCheck(): void {
    // Only the active controller fences; a standby's sessions are stale by design.
    if (!this.active) return;
    let next = Infinity;
    for (const hb of this.heartbeats.values()) if (!hb.fenced) next = Math.min(next, hb.lastContactMs + this.config['broker.session.timeout.ms']);
    if (next === Infinity) return;
    if (this.fenceTimer >= 0) this.ctx.cancelTimer(this.fenceTimer);
    // Strictly after the session's last valid instant.
    this.fenceTimer = this.ctx.setTimer(FENCE_CHECK_TIMER, Math.max(1, Math.round((next - this.nowMs()) * 1000) + 1));
  }

  // ------------------------------------------------------------ partitions

  private topicConfig(topic: string): { minIsr: number; unclean: boolean } {
    const c = this.image.topics.get(topic) ?? {};
    const minIsr = c['min.insync.replicas'] !== undefined ? Number(c['min.insync.replicas']) : this.config['min.insync.replicas'];
    const unclean = c['unclean.leader.election.enable'] !== undefined ? c['unclean.leader.election.enable'] === true || c['unclean.leader.election.enable'] === 'true' : this.config['unclean.leader.election.enable'];
    return { minIsr, unclean };
  }

  private change(p: PartitionState, targetIsr: readonly number[], acceptable: (r: number) => boolean, uncleanShutdown: readonly number[] = []): MetadataRecord[] {
    const { minIsr, unclean } = this.topicConfig(p.topic);
    const result = buildPartitionChange(p, {
      targetIsr,
      isAcceptableLeader: acceptable,
      uncleanAllowed: unclean,
      elrEnabled: this.switches.eligibleLeaderReplicas,
      minIsr: Math.min(minIsr, p.replicas.length),
      uncleanShutdownReplicas: uncleanShutdown,
    });
    if (result.record === undefined) return [];
    if (result.unclean) this.ctx.record({ type: 'unclean-election', controller: this.options.controllerId, partition: tpKey(p.topic, p.partition), leader: result.record.leader });
    return [result.record];
  }

  /** handleBrokerFenced / handleBrokerShutdown: the broker leaves every ISR (and, if unclean, every ELR). */
  private removeFromIsrs(brokerId: number, uncleanShutdown: boolean): MetadataRecord[] {
    const records: MetadataRecord[] = [];
    for (const p of this.image.partitions.values()) {
      if (!p.isr.includes(brokerId) && !(uncleanShutdown && p.elr.includes(brokerId))) continue;
      records.push(...this.change(p, p.isr.filter((r) => r !== brokerId), (r) => r !== brokerId && this.image.isActive(r), uncleanShutdown ? [brokerId] : []));
    }
    return records;
  }

  /** handleBrokerUnfenced: partitions with no leader may get this broker back as leader. */
  private electLeaderless(brokerId: number): MetadataRecord[] {
    const records: MetadataRecord[] = [];
    for (const p of this.image.partitions.values()) {
      if (p.leader >= 0 || !p.replicas.includes(brokerId)) continue;
      records.push(...this.change(p, p.isr, (r) => r === brokerId || this.image.isActive(r)));
    }
    return records;
  }

  /** ReplicationControlManager.alterPartition, checks in Kafka's order (KRAFT.md §9.1). */
  private alterPartition(from: NodeId, req: AlterPartitionRequest): { records: MetadataRecord[]; reply: () => void } {
    const reg = this.image.brokers.get(req.brokerId);
    const records: MetadataRecord[] = [];
    const answers: { item: AlterPartitionRequest['partitions'][number]; error: ErrorCode }[] = [];
    if (reg === undefined || reg.brokerEpoch !== req.brokerEpoch) {
      return {
        records,
        reply: () => this.ctx.send(from, { type: 'AlterPartitionResponse', correlationId: req.correlationId, error: Errors.STALE_BROKER_EPOCH, partitions: [], sizeBytes: wireSize(0) }),
      };
    }
    for (const item of req.partitions) {
      const p = this.image.partitions.get(tpKey(item.topic, item.partition));
      const newIsr = item.newIsrWithEpochs.map((b) => b.brokerId);
      let error: ErrorCode = Errors.NONE;
      if (p === undefined) error = Errors.UNKNOWN_TOPIC_OR_PARTITION;
      else if (item.leaderEpoch > p.leaderEpoch || item.partitionEpoch > p.partitionEpoch) error = Errors.NOT_CONTROLLER;
      else if (item.leaderEpoch < p.leaderEpoch) error = Errors.FENCED_LEADER_EPOCH;
      else if (req.brokerId !== p.leader) error = Errors.INVALID_REQUEST;
      else if (item.partitionEpoch < p.partitionEpoch) error = Errors.INVALID_UPDATE_VERSION;
      else if (newIsr.some((r) => !p.replicas.includes(r)) || new Set(newIsr).size !== newIsr.length || !newIsr.includes(p.leader)) error = Errors.INVALID_REQUEST;
      else if (item.newIsrWithEpochs.some((b) => this.isIneligible(b.brokerId, b.brokerEpoch))) error = Errors.INELIGIBLE_REPLICA;
      if (error === Errors.NONE && p !== undefined) records.push(...this.change(p, newIsr, (r) => this.image.isActive(r)));
      answers.push({ item, error });
    }
    return {
      records,
      reply: () => {
        const partitions: AlterPartitionItemResponse[] = answers.map(({ item, error }) => {
          const p = this.image.partitions.get(tpKey(item.topic, item.partition));
          return {
            topic: item.topic,
            partition: item.partition,
            error: error === Errors.NONE && p !== undefined && p.leader !== req.brokerId ? Errors.NEW_LEADER_ELECTED : error,
            leaderId: p?.leader ?? -1,
            leaderEpoch: p?.leaderEpoch ?? -1,
            isr: p?.isr ?? [],
            partitionEpoch: p?.partitionEpoch ?? -1,
          };
        });
        this.ctx.send(from, { type: 'AlterPartitionResponse', correlationId: req.correlationId, error: Errors.NONE, partitions, sizeBytes: wireSize(partitions.length) });
      },
    };
  }

  /** ineligibleReplicasForIsr: unregistered, fenced, shutting down, or (KIP-903) a stale epoch. */
  private isIneligible(brokerId: number, brokerEpoch: number): boolean {
    const b = this.image.brokers.get(brokerId);
    if (b === undefined || b.fenced || b.inControlledShutdown) return true;
    return this.switches.brokerEpochFencing && brokerEpoch !== -1 && b.brokerEpoch !== brokerEpoch;
  }

  /** CreateTopics for the configured topics, once enough brokers are unfenced to place them. */
  private maybeCreateTopics(): void {
    if (!this.active || this.topicsCreated || this.writing) return;
    const topics = this.options.topics ?? [];
    const active = [...this.image.brokers.values()].filter((b) => this.image.isActive(b.brokerId));
    const needed = Math.max(this.options.createTopicsWhenBrokers ?? 0, ...topics.map((t) => t.replicationFactor));
    if (topics.length === 0 || active.length < needed) return;
    this.topicsCreated = true;
    const placer = new StripedReplicaPlacer(
      this.placerRng,
      [...this.image.brokers.values()].filter((b) => !b.inControlledShutdown).map((b) => ({ id: b.brokerId, rack: b.rack, fenced: b.fenced })),
    );
    const records: MetadataRecord[] = [];
    for (const t of topics) {
      records.push({ type: 'TopicRecord', name: t.name });
      for (const [name, value] of Object.entries(t.config ?? {})) records.push({ type: 'ConfigRecord', topic: t.name, name, value });
      for (let partition = 0; partition < t.partitions; partition++) {
        const replicas = placer.place(t.replicationFactor);
        const isr = replicas.filter((r) => this.image.isActive(r));
        const record: PartitionRecord = { type: 'PartitionRecord', topic: t.name, partition, replicas, isr, leader: isr[0] ?? -1, leaderEpoch: 0, partitionEpoch: 0 };
        records.push(record);
      }
    }
    this.ctx.record({ type: 'topics-created', controller: this.options.controllerId, topics: topics.map((t) => t.name) });
    this.commit(records, undefined);
  }

  // ------------------------------------------------------------ telling the brokers

  private pushMetadata(): void {
    if (!this.active || this.options.pushMetadata !== true) return;
    const from = this.pushedOffset;
    if (this.image.offset <= from) return;
    this.pushedOffset = this.image.offset;
    for (const b of this.image.brokers.values()) this.sendMetadata(b.brokerId, from);
  }

  private sendMetadata(brokerId: number, fromOffset: number): void {
    const changed = this.image.changedSince(fromOffset);
    const update: MetadataUpdate = {
      type: 'MetadataUpdate',
      fromOffset,
      metadataOffset: this.image.offset,
      brokers: changed.brokers,
      partitions: changed.partitions,
      topicConfigs: changed.topics,
      sizeBytes: wireSize(changed.partitions.length + changed.brokers.length),
    };
    this.ctx.send(brokerId, update);
  }

  private nowMs(): number {
    return this.ctx.nowUs() / 1000;
  }
}
