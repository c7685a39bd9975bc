import { World } from '../../../src/world/world.js';
import type { DiskCompletion } from '../../../src/world/disk.js';
import type { LatencySpec } from '../../../src/world/latency.js';
import type { Message, Node, NodeContext, NodeId } from '../../../src/world/node.js';
import type { ElectionState } from '../../../src/kafka/raft/epoch-state.js';
import { KafkaRaftClient, type CommittedEntry, type KafkaRaftClientOptions } from '../../../src/kafka/raft/kafka-raft-client.js';
import { QUORUM_STATE_FILE, readElectionState } from '../../../src/kafka/raft/quorum-state.js';
import { METADATA_LOG_FILE } from '../../../src/kafka/raft/raft-log.js';
import type { RaftRecordBatch } from '../../../src/kafka/raft/raft-messages.js';
import { RaftInvariants, type QuorumView } from './raft-invariants.js';

const APPEND_TIMER = 'counter-append';

/** The record the test leader appends: who wrote it, in which incarnation, and a sequence number. */
export interface CounterRecord {
  readonly writer: number;
  readonly incarnation: number;
  readonly seq: number;
}

export interface RaftTestNodeOptions {
  readonly voters: readonly number[];
  readonly observer: boolean;
  readonly appendIntervalMs: number;
  readonly raft?: Partial<KafkaRaftClientOptions>;
}

/**
 * A tiny node hosting one KafkaRaftClient, as RaftEventSimulationTest's RaftNode hosts one with a
 * ReplicatedCounter: once it is the leader and its LeaderChange entry is committed (the counter
 * is "writable"), it appends a counter record every `appendIntervalMs`. Everything that is not
 * the client's goes to the node's own handlers.
 */
export class RaftTestNode implements Node {
  readonly client: KafkaRaftClient;
  readonly committed: CommittedEntry[] = [];
  private writable = false;
  private seq = 0;

  constructor(
    private readonly ctx: NodeContext,
    private readonly options: RaftTestNodeOptions,
  ) {
    this.client = new KafkaRaftClient(ctx, {
      nodeId: ctx.id,
      voters: options.voters,
      observer: options.observer,
      ...options.raft,
      onCommit: (entries) => this.committed.push(...entries),
      onBecomeLeader: () => {
        this.writable = true;
      },
      onResign: () => {
        this.writable = false;
      },
    });
  }

  start(): void {
    this.client.start();
    if (!this.options.observer && this.options.appendIntervalMs > 0) this.ctx.setTimer(APPEND_TIMER, this.options.appendIntervalMs * 1000);
  }

  onMessage(from: NodeId, message: Message): void {
    this.client.handleMessage(from, message);
  }

  onTimer(name: string, data: unknown): void {
    if (this.client.handleTimer(name, data)) return;
    if (name !== APPEND_TIMER) return;
    if (this.writable && this.client.role === 'leader') {
      const record: CounterRecord = { writer: this.ctx.id, incarnation: this.ctx.incarnation, seq: this.seq++ };
      this.client.append([record]);
    }
    this.ctx.setTimer(APPEND_TIMER, this.options.appendIntervalMs * 1000);
  }

  onDiskComplete(c: DiskCompletion): void {
    this.client.handleDiskComplete(c);
  }
}

export interface RaftClusterOptions {
  readonly seed: number;
  readonly voters: number;
  readonly observers?: number;
  readonly preVote?: boolean;
  readonly appendIntervalMs?: number;
  readonly latency?: LatencySpec;
  /** A power loss may leave the first unsynced append torn (default true). */
  readonly tornWrites?: boolean;
  readonly raft?: Partial<KafkaRaftClientOptions>;
  /** Check the invariants after every event (default true). */
  readonly checkInvariants?: boolean;
}

export interface RunOutcome {
  readonly satisfied: boolean;
  readonly events: number;
}

/**
 * A KRaft quorum on a simulated world, in the shape of RaftEventSimulationTest's Cluster: voters
 * 1..V, observers V+1..V+O, each machine hosting a RaftTestNode. Runs check the invariants after
 * every delivered event (the engine's `until` predicate runs after each one).
 */
export class RaftCluster implements QuorumView {
  readonly world: World;
  readonly voterIds: number[];
  readonly observerIds: number[];
  readonly nodeIds: number[];
  readonly invariants: RaftInvariants;
  private readonly check: boolean;

  constructor(readonly options: RaftClusterOptions) {
    this.world = new World({
      seed: options.seed,
      network: { latency: options.latency ?? { distribution: 'exponential', meanMs: 1, minMs: 0.2 } },
      disk: { tornWrites: options.tornWrites ?? true },
    });
    this.voterIds = Array.from({ length: options.voters }, (_, i) => i + 1);
    this.observerIds = Array.from({ length: options.observers ?? 0 }, (_, i) => options.voters + i + 1);
    this.nodeIds = [...this.voterIds, ...this.observerIds];
    const raft: Partial<KafkaRaftClientOptions> = { preVote: options.preVote ?? true, ...options.raft };
    for (const id of this.nodeIds) {
      const observer = !this.voterIds.includes(id);
      this.world.addMachine({
        id,
        name: `${observer ? 'observer' : 'voter'}-${id}`,
        factory: (ctx) => new RaftTestNode(ctx, { voters: this.voterIds, observer, appendIntervalMs: options.appendIntervalMs ?? 100, raft }),
      });
    }
    this.check = options.checkInvariants ?? true;
    this.invariants = new RaftInvariants(this, () => this.world.nowUs);
    this.world.startAll();
  }

  // ---------------------------------------------------------------- QuorumView

  persistedElection(nodeId: number): ElectionState | undefined {
    const chunk = this.world.machine(nodeId).disk.durableChunks(QUORUM_STATE_FILE)[0];
    return chunk === undefined ? undefined : readElectionState(chunk.payload);
  }

  durableLogEndOffset(nodeId: number): number {
    let end = 0;
    for (const chunk of this.world.machine(nodeId).disk.durableChunks(METADATA_LOG_FILE)) {
      const batch = chunk.payload as RaftRecordBatch;
      if (chunk.torn === true || chunk.corrupt === true || batch.baseOffset !== end) break;
      end += batch.records.length;
    }
    return end;
  }

  runningClient(nodeId: number): KafkaRaftClient | undefined {
    const m = this.world.machine(nodeId);
    return m.state === 'running' ? (m.process as RaftTestNode).client : undefined;
  }

  // ---------------------------------------------------------------- running

  get nowMs(): number {
    return this.world.nowUs / 1000;
  }

  /** Runs `ms` of simulated time, checking the invariants after every event. */
  runForMs(ms: number): number {
    return this.runUntil(() => false, { maxMs: ms }).events;
  }

  /** Runs until `condition` holds (checked after every event), or the limits. */
  runUntil(condition: () => boolean, limits: { maxMs?: number; maxEvents?: number } = {}): RunOutcome {
    if (this.check) this.invariants.verify();
    if (condition()) return { satisfied: true, events: 0 };
    const timeUs = limits.maxMs === undefined ? undefined : this.world.nowUs + Math.round(limits.maxMs * 1000);
    const result = this.world.runUntil({
      timeUs,
      events: limits.maxEvents,
      until: () => {
        if (this.check) this.invariants.verify();
        return condition();
      },
    });
    return { satisfied: result.reason === 'predicate', events: result.eventsDelivered };
  }

  /** Applies a fault (or anything) between events, and checks the invariants right after it. */
  act(action: () => void): void {
    action();
    if (this.check) this.invariants.verify();
  }

  // ---------------------------------------------------------------- views

  node(id: number): RaftTestNode | undefined {
    const m = this.world.machine(id);
    return m.state === 'running' ? (m.process as RaftTestNode) : undefined;
  }

  client(id: number): KafkaRaftClient {
    const c = this.runningClient(id);
    if (c === undefined) throw new Error(`node ${id} is not running`);
    return c;
  }

  runningIds(): number[] {
    return this.nodeIds.filter((id) => this.world.machine(id).state === 'running');
  }

  leaders(): number[] {
    return this.runningIds().filter((id) => this.client(id).role === 'leader');
  }

  /**
   * RaftEventSimulationTest's hasConsistentLeader: every running node's persisted election state
   * names the same epoch and leader, and that leader is running as leader.
   */
  hasConsistentLeader(): boolean {
    const running = this.runningIds();
    if (running.length === 0) return false;
    const first = this.persistedElection(running[0]);
    if (first === undefined || first.leaderId < 0) return false;
    for (const id of running) {
      const e = this.persistedElection(id);
      if (e === undefined || e.epoch !== first.epoch || e.leaderId !== first.leaderId) return false;
    }
    const leader = this.runningClient(first.leaderId);
    return leader !== undefined && leader.role === 'leader' && leader.epoch === first.epoch;
  }

  /** The leader of the highest epoch any running node has persisted, if it is known. */
  latestLeader(): { id: number; epoch: number } | undefined {
    let best: { id: number; epoch: number } | undefined;
    for (const id of this.runningIds()) {
      const c = this.client(id);
      if (c.leaderId !== undefined && (best === undefined || c.epoch > best.epoch)) best = { id: c.leaderId, epoch: c.epoch };
    }
    return best;
  }

  maxHighWatermark(ids: readonly number[] = this.runningIds()): number {
    let max = 0;
    for (const id of ids) {
      const hw = this.runningClient(id)?.highWatermark;
      if (hw !== undefined) max = Math.max(max, hw);
    }
    return max;
  }

  /** Every node in `ids` (running ones only) has an HW strictly above `offset` (allReachedHighWatermark). */
  allReachedHighWatermark(offset: number, ids: readonly number[] = this.nodeIds): boolean {
    return ids.every((id) => {
      const hw = this.runningClient(id)?.highWatermark;
      return hw !== undefined && hw > offset;
    });
  }

  /** Heals the network and boots every stopped or powered-off machine. */
  healAll(): void {
    this.world.network.heal();
    for (const m of this.world.machines()) {
      if (!m.powered) m.powerOn();
      else if (m.state === 'stopped') m.start();
    }
  }
}
