import { Errors, type ErrorCode } from '../protocol/errors.js';
import {
  CONSUMER_REPLICA_ID,
  EARLIEST_TIMESTAMP,
  wireSize,
  type AlterPartitionItem,
  type AlterPartitionRequest,
  type AlterPartitionResponse,
  type BrokerRegistration,
  type FetchPartitionResponse,
  type FetchRequest,
  type FetchResponse,
  type ListOffsetsRequest,
  type ListOffsetsResponse,
  type MetadataPartition,
  type MetadataRequest,
  type MetadataResponse,
  type MetadataUpdate,
  type OffsetForLeaderEpochRequest,
  type OffsetForLeaderEpochResponse,
  type PartitionRegistration,
  type ProducePartitionResponse,
  type ProduceRequest,
  type ProduceResponse,
} from '../protocol/messages.js';
import { tpKey } from '../protocol/topic-partition.js';
import type { ProtocolSwitches } from '../protocol/switches.js';
import { logConfigFor, type BrokerConfig } from './broker-config.js';
import { ReplicaFetcher, type FetcherHost } from './fetcher.js';
import type { LogManager } from './log/log-manager.js';
import { Partition, type PartitionContext } from './partition.js';

/** What the replica manager needs from the broker node hosting it (sans-IO). */
export interface ReplicaManagerHost {
  readonly brokerId: number;
  readonly config: BrokerConfig;
  readonly switches: ProtocolSwitches;
  nowMs(): number;
  brokerEpoch(): number;
  /** Sends a response to a client or a broker. */
  reply(to: number, message: ProduceResponse | FetchResponse | OffsetForLeaderEpochResponse | ListOffsetsResponse | MetadataResponse): void;
  /** Sends a request; the callback gets the response, or undefined after a timeout. */
  request<R>(to: number, message: FetchRequest | OffsetForLeaderEpochRequest | AlterPartitionRequest, timeoutMs: number, onResponse: (response: R | undefined) => void): void;
  setTimer(name: string, delayMs: number, data: unknown): number;
  cancelTimer(id: number): void;
  /** Calls `then` once the disk op completes (a flush), at once if opId < 0. */
  afterDiskOp(opId: number, then: () => void): void;
  /** Protocol events for the online invariants. */
  record(entry: { type: string } & Record<string, unknown>): void;
  readonly controllerId: () => number;
  /** The controller did not answer or is not active: the broker moves to another. */
  onControllerUnreachable(): void;
  /**
   * This broker became leader of a partition in a new epoch, or stopped leading it (follower or
   * no replica): the group coordinator loads or unloads __consumer_offsets partitions here
   * (BrokerMetadataPublisher → GroupCoordinator.onElection / onResignation).
   */
  onLeadershipChange?(topic: string, partition: number, leaderEpoch: number, isLeader: boolean): void;
}

/** An acks=all produce waiting for the HW (DelayedProduce.scala). */
interface DelayedProduce {
  readonly respond: (results: ProducePartitionResponse[]) => void;
  readonly results: ProducePartitionResponse[];
  /** Index into results → the offset the HW must pass. */
  readonly waiting: Map<number, { key: string; requiredOffset: number }>;
  timer: number;
  done: boolean;
}

/** A fetch parked until data arrives or its max wait ends (DelayedFetch.scala). */
interface DelayedFetch {
  readonly from: number;
  readonly request: FetchRequest;
  readonly keys: readonly string[];
  timer: number;
  done: boolean;
}

export const DELAYED_PRODUCE_TIMER = 'delayed-produce';
export const DELAYED_FETCH_TIMER = 'delayed-fetch';
export const FETCHER_WAKE_TIMER = 'fetcher-wake';
export const ALTER_PARTITION_RETRY_TIMER = 'alter-partition-retry';

/**
 * The broker's partitions and the requests that act on them
 * (core/src/main/scala/kafka/server/ReplicaManager.scala): produce with acks and the produce
 * purgatory, fetch from followers and consumers with long polls, OffsetForLeaderEpoch and
 * ListOffsets, the follower fetchers, ISR shrinking, AlterPartition, and applying the
 * controller's decisions from metadata.
 */
export class ReplicaManager {
  private readonly partitions = new Map<string, Partition>();
  private readonly fetchers = new Map<number, ReplicaFetcher>();
  private readonly delayedProduces = new Map<string, Set<DelayedProduce>>();
  private readonly delayedFetches = new Map<string, Set<DelayedFetch>>();
  private readonly brokers = new Map<number, BrokerRegistration>();
  private readonly topicConfigs = new Map<string, Readonly<Record<string, string | number | boolean>>>();
  /** Every partition's registration as this broker last heard it, for MetadataRequest. */
  private readonly registrations = new Map<string, PartitionRegistration>();
  private alterQueue: AlterPartitionItem[] = [];
  private alterInFlight = false;
  private metadataOffset = -1;
  private readonly partitionContext: PartitionContext;
  private readonly fetcherHost: FetcherHost;

  constructor(
    private readonly host: ReplicaManagerHost,
    private readonly logs: LogManager,
  ) {
    this.partitionContext = {
      brokerId: host.brokerId,
      switches: host.switches,
      replicaLagTimeMaxMs: host.config['replica.lag.time.max.ms'],
      brokerEpoch: () => host.brokerEpoch(),
      brokerRegistration: (id) => this.brokers.get(id),
    };
    this.fetcherHost = this.makeFetcherHost();
  }

  get currentMetadataOffset(): number {
    return this.metadataOffset;
  }

  partition(key: string): Partition | undefined {
    return this.partitions.get(key);
  }

  allPartitions(): Partition[] {
    return [...this.partitions.values()];
  }

  // ------------------------------------------------------------ metadata

  /**
   * Applies the controller's decisions (ReplicaManager.applyDelta): become leader or follower
   * of each partition this broker holds a replica of, and move fetchers to the new leaders.
   */
  applyMetadata(update: MetadataUpdate): void {
    // Updates are deltas: one that starts past what we have would leave a gap; the heartbeat
    // catch-up will bring the missing part.
    if (update.metadataOffset <= this.metadataOffset || update.fromOffset > this.metadataOffset) return;
    this.metadataOffset = update.metadataOffset;
    for (const b of update.brokers) this.brokers.set(b.brokerId, b);
    for (const t of update.topicConfigs) {
      this.topicConfigs.set(t.topic, t.config);
      for (const p of this.partitions.values()) if (p.topic === t.topic) p.log.updateConfig(logConfigFor(this.host.config, t.config));
    }
    const nowMs = this.host.nowMs();
    for (const reg of update.partitions) {
      this.registrations.set(tpKey(reg.topic, reg.partition), reg);
      if (!reg.replicas.includes(this.host.brokerId)) {
        this.stopReplica(tpKey(reg.topic, reg.partition));
        continue;
      }
      this.applyPartition(reg, nowMs);
    }
  }

  private applyPartition(reg: PartitionRegistration, nowMs: number): void {
    const key = tpKey(reg.topic, reg.partition);
    let p = this.partitions.get(key);
    if (p === undefined) {
      const config = logConfigFor(this.host.config, this.topicConfigs.get(reg.topic) ?? {});
      const log = this.logs.getOrCreateLog(reg.topic, reg.partition, config, nowMs);
      p = new Partition(reg.topic, reg.partition, log, this.partitionContext);
      this.partitions.set(key, p);
    }
    const wasLeader = p.isLeader;
    if (reg.leader === this.host.brokerId) {
      this.removeFromFetchers(key);
      const newEpoch = p.makeLeader(reg, nowMs);
      if (newEpoch) this.host.record({ type: 'become-leader', partition: key, leaderEpoch: reg.leaderEpoch, leo: p.log.logEndOffset, hw: p.log.highWatermark });
      this.onHighWatermarkMaybeChanged(key);
      if (newEpoch) this.host.onLeadershipChange?.(reg.topic, reg.partition, reg.leaderEpoch, true);
    } else {
      const restart = p.makeFollower(reg);
      if (wasLeader) this.failDelayedProduces(key, Errors.NOT_LEADER_OR_FOLLOWER);
      if (wasLeader) this.host.onLeadershipChange?.(reg.topic, reg.partition, reg.leaderEpoch, false);
      if (restart) {
        this.host.record({ type: 'become-follower', partition: key, leaderEpoch: reg.leaderEpoch, leader: reg.leader, leo: p.log.logEndOffset, hw: p.log.highWatermark });
        this.removeFromFetchers(key);
        if (reg.leader >= 0) this.fetcherFor(reg.leader).addPartition(p);
      }
    }
  }

  private stopReplica(key: string): void {
    const p = this.partitions.get(key);
    this.removeFromFetchers(key);
    this.failDelayedProduces(key, Errors.NOT_LEADER_OR_FOLLOWER);
    this.partitions.delete(key);
    if (p?.isLeader === true) this.host.onLeadershipChange?.(p.topic, p.partition, p.leaderEpoch, false);
  }

  /** The partition as this broker's metadata says (leader, ISR, epochs), hosted here or not. */
  registration(topic: string, partition: number): PartitionRegistration | undefined {
    return this.registrations.get(tpKey(topic, partition));
  }

  /** How many partitions this broker's metadata knows for `topic` (0 for an unknown topic). */
  partitionCount(topic: string): number {
    let n = 0;
    for (const reg of this.registrations.values()) if (reg.topic === topic) n++;
    return n;
  }

  /** MetadataRequest: this broker's view of leaders and ISRs, however stale (KafkaApis.handleTopicMetadataRequest). */
  handleMetadata(from: number, req: MetadataRequest): void {
    const byTopic = new Map<string, MetadataPartition[]>();
    for (const reg of this.registrations.values()) {
      if (req.topics !== undefined && !req.topics.includes(reg.topic)) continue;
      const list = byTopic.get(reg.topic) ?? [];
      list.push({
        partition: reg.partition,
        error: reg.leader < 0 ? Errors.LEADER_NOT_AVAILABLE : Errors.NONE,
        leader: reg.leader,
        leaderEpoch: reg.leaderEpoch,
        replicas: reg.replicas,
        isr: reg.isr,
      });
      byTopic.set(reg.topic, list);
    }
    const topics = [...byTopic].map(([topic, partitions]) => ({ topic, error: Errors.NONE as ErrorCode, partitions: partitions.sort((a, b) => a.partition - b.partition) }));
    for (const t of req.topics ?? []) if (!byTopic.has(t)) topics.push({ topic: t, error: Errors.UNKNOWN_TOPIC_OR_PARTITION, partitions: [] });
    const brokers = [...this.brokers.values()].filter((b) => !b.fenced).map((b) => ({ brokerId: b.brokerId, rack: b.rack }));
    this.host.reply(from, { type: 'MetadataResponse', correlationId: req.correlationId, brokers, topics, sizeBytes: wireSize(this.registrations.size) });
  }

  /** A partition this broker does not host: unknown if the metadata has no such topic. */
  private unknownPartitionError(topic: string): ErrorCode {
    for (const reg of this.registrations.values()) if (reg.topic === topic) return Errors.NOT_LEADER_OR_FOLLOWER;
    return Errors.UNKNOWN_TOPIC_OR_PARTITION;
  }

  // ------------------------------------------------------------ produce

  /**
   * ReplicaManager.appendRecords. acks=0 gets no response; acks=1 is answered after the local
   * append (and its fsync, if flush.messages asks for one); acks=all waits in purgatory until
   * the HW passes each batch, or request timeout.
   */
  handleProduce(from: number, req: ProduceRequest): void {
    this.appendRecords(req, (results) => this.sendProduceResponse(from, req.correlationId, results));
  }

  /**
   * The append behind a produce request, also used by the group coordinator to write
   * __consumer_offsets (CoordinatorPartitionWriter → ReplicaManager.appendRecords with acks=-1).
   * `respond` gets each partition's result once (never with acks=0).
   */
  appendRecords(req: Pick<ProduceRequest, 'acks' | 'timeoutMs' | 'partitions'>, respond: (results: ProducePartitionResponse[]) => void): void {
    const nowMs = this.host.nowMs();
    const results: ProducePartitionResponse[] = [];
    const waiting = new Map<number, { key: string; requiredOffset: number }>();
    let flushOp = -1;
    const acksValid = req.acks === -1 || req.acks === 0 || req.acks === 1;
    req.partitions.forEach((item, i) => {
      const key = tpKey(item.topic, item.partition);
      const fail = (error: ErrorCode) => results.push({ topic: item.topic, partition: item.partition, error, baseOffset: -1, logStartOffset: -1 });
      if (!acksValid) return fail(Errors.INVALID_REQUIRED_ACKS);
      const p = this.partitions.get(key);
      if (p === undefined) return fail(this.unknownPartitionError(item.topic));
      const appended = p.appendRecordsToLeader(item.batch, req.acks, nowMs);
      if (!appended.ok) return fail(appended.error);
      results.push({ topic: item.topic, partition: item.partition, error: Errors.NONE, baseOffset: appended.firstOffset, logStartOffset: appended.logStartOffset });
      if (!appended.duplicate) {
        this.host.record({ type: 'leader-append', partition: key, leaderEpoch: p.leaderEpoch, baseOffset: appended.firstOffset, lastOffset: appended.lastOffset });
        this.wakeDelayedFetches(key, true);
        this.onHighWatermarkMaybeChanged(key);
      }
      if (appended.flushOpId > flushOp) flushOp = appended.flushOpId;
      if (req.acks === -1) waiting.set(i, { key, requiredOffset: appended.lastOffset + 1 });
    });
    if (req.acks === 0) return;
    // The append (with its fsync, when flush.messages asks) completes before anything is answered.
    this.host.afterDiskOp(flushOp, () => {
      if (waiting.size === 0) return respond(results);
      const op: DelayedProduce = { respond, results, waiting, timer: -1, done: false };
      op.timer = this.host.setTimer(DELAYED_PRODUCE_TIMER, req.timeoutMs, op);
      for (const w of waiting.values()) {
        let set = this.delayedProduces.get(w.key);
        if (set === undefined) this.delayedProduces.set(w.key, (set = new Set()));
        set.add(op);
      }
      this.tryCompleteProduce(op);
    });
  }

  private tryCompleteProduce(op: DelayedProduce): void {
    if (op.done) return;
    for (const [i, w] of [...op.waiting]) {
      const p = this.partitions.get(w.key);
      const check = p === undefined ? { done: true, error: Errors.NOT_LEADER_OR_FOLLOWER as ErrorCode } : p.checkEnoughReplicasReachOffset(w.requiredOffset);
      if (!check.done) continue;
      if (check.error !== Errors.NONE) op.results[i] = { ...op.results[i], error: check.error };
      op.waiting.delete(i);
    }
    if (op.waiting.size === 0) this.completeProduce(op);
  }

  /** Called from the DELAYED_PRODUCE_TIMER: pending partitions answer REQUEST_TIMED_OUT. */
  expireProduce(op: DelayedProduce): void {
    if (op.done) return;
    for (const i of op.waiting.keys()) op.results[i] = { ...op.results[i], error: Errors.REQUEST_TIMED_OUT };
    op.waiting.clear();
    op.timer = -1;
    this.completeProduce(op);
  }

  private completeProduce(op: DelayedProduce): void {
    op.done = true;
    if (op.timer >= 0) this.host.cancelTimer(op.timer);
    for (const r of op.results) this.delayedProduces.get(tpKey(r.topic, r.partition))?.delete(op);
    op.respond(op.results);
  }

  private sendProduceResponse(to: number, correlationId: number, partitions: ProducePartitionResponse[]): void {
    this.host.reply(to, { type: 'ProduceResponse', correlationId, partitions, sizeBytes: wireSize(partitions.length) });
  }

  private failDelayedProduces(key: string, error: ErrorCode): void {
    const set = this.delayedProduces.get(key);
    if (set === undefined) return;
    for (const op of [...set]) {
      for (const [i, w] of [...op.waiting]) {
        if (w.key !== key) continue;
        op.results[i] = { ...op.results[i], error };
        op.waiting.delete(i);
      }
      if (op.waiting.size === 0 && !op.done) this.completeProduce(op);
    }
  }

  /** After anything that may move a partition's HW: complete waiting produces and consumer fetches. */
  private onHighWatermarkMaybeChanged(key: string): void {
    const p = this.partitions.get(key);
    // Recorded even when unchanged: it also marks ISR and role changes, after which the online
    // invariants must look again.
    if (p !== undefined && p.isLeader) this.host.record({ type: 'high-watermark', partition: key, leaderEpoch: p.leaderEpoch, hw: p.log.highWatermark, leo: p.log.logEndOffset });
    const set = this.delayedProduces.get(key);
    if (set !== undefined) for (const op of [...set]) this.tryCompleteProduce(op);
    const hw = p?.log.highWatermark ?? -1;
    if (this.lastHighWatermark.get(key) !== hw) {
      this.lastHighWatermark.set(key, hw);
      this.wakeDelayedFetches(key, false);
    }
  }

  /** Each partition's HW when consumers were last woken: only a move wakes them. */
  private readonly lastHighWatermark = new Map<string, number>();

  // ------------------------------------------------------------ fetch

  /**
   * ReplicaManager.fetchMessages. Answers at once when there is data, an error or a divergence;
   * otherwise parks the fetch until data arrives (followers: any append; consumers: the HW
   * moving) or replica.fetch.wait.max.ms / fetch.max.wait.ms passes.
   */
  handleFetch(from: number, req: FetchRequest): void {
    const { partitions, bytes, hasErrorOrDivergence } = this.readForFetch(req);
    if (bytes >= req.minBytes || hasErrorOrDivergence || req.maxWaitMs <= 0) {
      this.sendFetchResponse(from, req, partitions);
      return;
    }
    const keys = req.partitions.map((p) => tpKey(p.topic, p.partition));
    const op: DelayedFetch = { from, request: req, keys, timer: -1, done: false };
    op.timer = this.host.setTimer(DELAYED_FETCH_TIMER, req.maxWaitMs, op);
    for (const key of keys) {
      let set = this.delayedFetches.get(key);
      if (set === undefined) this.delayedFetches.set(key, (set = new Set()));
      set.add(op);
    }
  }

  /**
   * DelayedFetch.tryComplete, when data arrives: answer only if there are now enough bytes (or
   * an error); otherwise stay parked until the max wait.
   */
  private tryCompleteFetch(op: DelayedFetch): void {
    if (op.done) return;
    const read = this.readForFetch(op.request);
    if (read.bytes >= op.request.minBytes || read.hasErrorOrDivergence) this.completeFetch(op, read.partitions);
  }

  /** Called from the DELAYED_FETCH_TIMER (max wait reached): read again and answer. */
  completeFetch(op: DelayedFetch, partitions?: FetchPartitionResponse[]): void {
    if (op.done) return;
    op.done = true;
    if (op.timer >= 0) this.host.cancelTimer(op.timer);
    for (const key of op.keys) this.delayedFetches.get(key)?.delete(op);
    this.sendFetchResponse(op.from, op.request, partitions ?? this.readForFetch(op.request).partitions);
  }

  private wakeDelayedFetches(key: string, leaderAppend: boolean): void {
    const set = this.delayedFetches.get(key);
    if (set === undefined || set.size === 0) return;
    for (const op of [...set]) {
      const isFollower = op.request.replicaId !== CONSUMER_REPLICA_ID;
      // Followers wake on new data; consumers on the HW moving (what they may read).
      if (isFollower === leaderAppend) this.tryCompleteFetch(op);
    }
  }

  private readForFetch(req: FetchRequest): { partitions: FetchPartitionResponse[]; bytes: number; hasErrorOrDivergence: boolean } {
    const nowMs = this.host.nowMs();
    const isFollower = req.replicaId !== CONSUMER_REPLICA_ID;
    let bytes = 0;
    let hasErrorOrDivergence = false;
    const partitions: FetchPartitionResponse[] = [];
    for (const item of req.partitions) {
      const key = tpKey(item.topic, item.partition);
      const p = this.partitions.get(key);
      let response: FetchPartitionResponse;
      if (p === undefined) {
        response = { topic: item.topic, partition: item.partition, error: this.unknownPartitionError(item.topic), highWatermark: -1, logStartOffset: -1, batches: [] };
      } else if (isFollower) {
        const result = p.fetchFromFollower(req.replicaId, req.replicaEpoch, item, nowMs);
        response = result.response;
        if (result.alter !== undefined) this.enqueueAlterPartition(result.alter);
        if (result.hwChanged) this.onHighWatermarkMaybeChanged(key);
      } else {
        response = p.fetchFromConsumer(item);
      }
      if (response.error !== Errors.NONE || response.divergingEpoch !== undefined) hasErrorOrDivergence = true;
      for (const b of response.batches) bytes += b.sizeBytes;
      partitions.push(response);
    }
    return { partitions, bytes, hasErrorOrDivergence };
  }

  private sendFetchResponse(to: number, req: FetchRequest, partitions: FetchPartitionResponse[]): void {
    let bytes = 0;
    for (const p of partitions) for (const b of p.batches) bytes += b.sizeBytes;
    this.host.reply(to, { type: 'FetchResponse', correlationId: req.correlationId, partitions, sizeBytes: wireSize(partitions.length, bytes) });
  }

  // ------------------------------------------------------------ OffsetForLeaderEpoch, ListOffsets

  handleOffsetForLeaderEpoch(from: number, req: OffsetForLeaderEpochRequest): void {
    const partitions = req.partitions.map((item) => {
      const p = this.partitions.get(tpKey(item.topic, item.partition));
      const base = { topic: item.topic, partition: item.partition };
      if (p === undefined) return { ...base, error: this.unknownPartitionError(item.topic), leaderEpoch: -1, endOffset: -1 };
      // Partition.getLocalLog: the epoch first, then leadership.
      const epochError = p.checkCurrentLeaderEpoch(item.currentLeaderEpoch);
      if (epochError !== Errors.NONE) return { ...base, error: epochError, leaderEpoch: -1, endOffset: -1 };
      if (!p.isLeader) return { ...base, error: Errors.NOT_LEADER_OR_FOLLOWER as ErrorCode, leaderEpoch: -1, endOffset: -1 };
      const end = p.lastOffsetForLeaderEpoch(item.leaderEpoch);
      return { ...base, error: Errors.NONE as ErrorCode, leaderEpoch: end.epoch, endOffset: end.endOffset };
    });
    this.host.reply(from, { type: 'OffsetForLeaderEpochResponse', correlationId: req.correlationId, partitions, sizeBytes: wireSize(partitions.length) });
  }

  /** ListOffsets: earliest is the log start; latest is the HW for clients and the LEO for replicas. */
  handleListOffsets(from: number, req: ListOffsetsRequest): void {
    const partitions = req.partitions.map((item) => {
      const p = this.partitions.get(tpKey(item.topic, item.partition));
      const base = { topic: item.topic, partition: item.partition };
      if (p === undefined) return { ...base, error: this.unknownPartitionError(item.topic), offset: -1, leaderEpoch: -1 };
      const epochError = p.checkCurrentLeaderEpoch(item.currentLeaderEpoch);
      if (epochError !== Errors.NONE) return { ...base, error: epochError, offset: -1, leaderEpoch: -1 };
      if (!p.isLeader) return { ...base, error: Errors.NOT_LEADER_OR_FOLLOWER as ErrorCode, offset: -1, leaderEpoch: -1 };
      const offset = item.timestamp === EARLIEST_TIMESTAMP ? p.log.logStartOffset : req.replicaId === CONSUMER_REPLICA_ID ? p.log.highWatermark : p.log.logEndOffset;
      return { ...base, error: Errors.NONE as ErrorCode, offset, leaderEpoch: p.leaderEpoch };
    });
    this.host.reply(from, { type: 'ListOffsetsResponse', correlationId: req.correlationId, partitions, sizeBytes: wireSize(partitions.length) });
  }

  // ------------------------------------------------------------ ISR changes

  /** ReplicaManager's isr-expiration task, every replica.lag.time.max.ms / 2. */
  maybeShrinkIsr(): void {
    const nowMs = this.host.nowMs();
    for (const p of this.partitions.values()) {
      const item = p.maybeShrinkIsr(nowMs);
      if (item !== undefined) {
        this.host.record({ type: 'isr-shrink-proposed', partition: p.key, isr: item.newIsrWithEpochs.map((b) => b.brokerId), leaderEpoch: p.leaderEpoch });
        this.enqueueAlterPartition(item);
      }
    }
  }

  /**
   * AlterPartitionManager: one request in flight, carrying every queued change; retried
   * until the controller answers.
   */
  private enqueueAlterPartition(item: AlterPartitionItem): void {
    this.alterQueue = this.alterQueue.filter((q) => q.topic !== item.topic || q.partition !== item.partition);
    this.alterQueue.push(item);
    this.maybeSendAlterPartition();
  }

  maybeSendAlterPartition(): void {
    if (this.alterInFlight || this.alterQueue.length === 0 || this.host.brokerEpoch() < 0) return;
    const items = this.alterQueue;
    this.alterQueue = [];
    this.alterInFlight = true;
    const request: AlterPartitionRequest = {
      type: 'AlterPartitionRequest',
      correlationId: 0,
      brokerId: this.host.brokerId,
      brokerEpoch: this.host.brokerEpoch(),
      partitions: items,
      sizeBytes: wireSize(items.length),
    };
    this.host.request<AlterPartitionResponse>(this.host.controllerId(), request, this.host.config['request.timeout.ms'], (response) => {
      this.alterInFlight = false;
      const nowMs = this.host.nowMs();
      const retry: AlterPartitionItem[] = [];
      if (response === undefined || response.error === Errors.NOT_CONTROLLER) this.host.onControllerUnreachable();
      if (response === undefined || response.error !== Errors.NONE) retry.push(...items);
      else {
        for (const item of items) {
          const key = tpKey(item.topic, item.partition);
          const answer = response.partitions.find((r) => r.topic === item.topic && r.partition === item.partition);
          const p = this.partitions.get(key);
          if (answer === undefined || p === undefined) continue;
          if (p.onAlterPartitionResponse(item, answer, nowMs) === 'retry') retry.push(item);
          else {
            this.host.record({ type: 'alter-partition-result', partition: key, error: answer.error, isr: answer.isr, partitionEpoch: answer.partitionEpoch });
            this.onHighWatermarkMaybeChanged(key);
          }
        }
      }
      for (const item of retry) {
        const p = this.partitions.get(tpKey(item.topic, item.partition));
        const pending = p?.pendingAlterPartition();
        if (pending !== undefined) this.alterQueue.push(pending);
      }
      if (this.alterQueue.length > 0) this.host.setTimer(ALTER_PARTITION_RETRY_TIMER, 100, undefined);
      else this.maybeSendAlterPartition();
    });
  }

  // ------------------------------------------------------------ fetchers

  private fetcherFor(leader: number): ReplicaFetcher {
    let f = this.fetchers.get(leader);
    if (f === undefined) this.fetchers.set(leader, (f = new ReplicaFetcher(leader, this.fetcherHost)));
    return f;
  }

  private removeFromFetchers(key: string): void {
    for (const f of this.fetchers.values()) f.removePartition(key);
  }

  /** Called from the FETCHER_WAKE_TIMER after a backoff. */
  wakeFetcher(leader: number): void {
    this.fetchers.get(leader)?.maybeSend();
  }

  private makeFetcherHost(): FetcherHost {
    const host = this.host;
    const config = host.config;
    return {
      brokerId: host.brokerId,
      switches: host.switches,
      nowMs: () => host.nowMs(),
      brokerEpoch: () => host.brokerEpoch(),
      sendFetch: (leader, request, onResponse) => host.request(leader, request, config['replica.socket.timeout.ms'], onResponse),
      sendOffsetForLeaderEpoch: (leader, request, onResponse) => host.request(leader, request, config['replica.socket.timeout.ms'], onResponse),
      wakeAfter: (leader, delayMs) => host.setTimer(FETCHER_WAKE_TIMER, delayMs, leader),
      onTruncated: (partition, offset) => this.host.record({ type: 'truncate', partition: partition.key, offset, leo: partition.log.logEndOffset, hw: partition.log.highWatermark }),
      afterFollowerAppend: (partition, flushOpId, resume) => {
        this.host.record({ type: 'follower-append', partition: partition.key, leo: partition.log.logEndOffset, hw: partition.log.highWatermark });
        host.afterDiskOp(flushOpId, resume);
      },
      replicaFetchWaitMaxMs: config['replica.fetch.wait.max.ms'],
      replicaFetchMinBytes: config['replica.fetch.min.bytes'],
      replicaFetchMaxBytes: config['replica.fetch.max.bytes'],
      replicaFetchResponseMaxBytes: config['replica.fetch.response.max.bytes'],
      replicaFetchBackoffMs: config['replica.fetch.backoff.ms'],
    };
  }
}
