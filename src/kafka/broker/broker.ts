import { Errors } from '../protocol/errors.js';
import { InFlightRequests, REQUEST_TIMEOUT_TIMER } from '../protocol/in-flight-requests.js';
import {
  wireSize,
  type BrokerHeartbeatResponse,
  type BrokerRegistrationResponse,
  type KafkaMessage,
} from '../protocol/messages.js';
import { CURRENT_KAFKA, type ProtocolSwitches } from '../protocol/switches.js';
import type { DiskCompletion } from '../../world/disk.js';
import { MetadataImage } from '../metadata/metadata-image.js';
import type { MetadataRecord } from '../metadata/metadata-records.js';
import { KafkaRaftClient, type CommittedEntry } from '../raft/kafka-raft-client.js';
import type { Random } from '../../engine/random.js';
import { GroupCoordinator, GROUP_COORDINATOR_TIMERS } from '../group/group-coordinator.js';
import { GROUP_METADATA_TOPIC_NAME, groupCoordinatorPartition } from '../group/coordinator-partition.js';
import type { GroupRecord } from '../group/group-records.js';
import { COORDINATOR_TYPE_GROUP, groupWireSize, type FindCoordinatorRequest, type GroupRequest } from '../protocol/group-messages.js';
import { makeBatch, NO_PRODUCER_EPOCH, NO_PRODUCER_ID, NO_SEQUENCE } from '../protocol/records.js';
import type { ErrorCode } from '../protocol/errors.js';
import type { Message, Node, NodeContext, NodeId } from '../../world/node.js';
import { DEFAULT_BROKER_CONFIG, logConfigFor, type BrokerConfig } from './broker-config.js';
import { LogManager } from './log/log-manager.js';
import { ALTER_PARTITION_RETRY_TIMER, DELAYED_FETCH_TIMER, DELAYED_PRODUCE_TIMER, FETCHER_WAKE_TIMER, ReplicaManager } from './replica-manager.js';

export interface BrokerOptions {
  readonly brokerId: number;
  /**
   * The controller quorum's node ids (controller.quorum.voters). The broker talks to one at a
   * time and moves to the next when that one stops answering or says it is not the active
   * controller (NOT_CONTROLLER).
   */
  readonly controllerIds: readonly number[];
  readonly config?: Partial<BrokerConfig>;
  readonly switches?: Partial<ProtocolSwitches>;
  /**
   * Follow the metadata log as a Raft observer, fetching it from the active controller (on by
   * default, as every KRaft broker does). Test rigs without a controller quorum turn it off and
   * hand the broker MetadataUpdate messages instead.
   */
  readonly followMetadataLog?: boolean;
}

const HEARTBEAT_TIMER = 'heartbeat';
const ISR_EXPIRATION_TIMER = 'isr-expiration';
const HW_CHECKPOINT_TIMER = 'hw-checkpoint';
const RECOVERY_CHECKPOINT_TIMER = 'recovery-point-checkpoint';
const RETENTION_TIMER = 'log-retention';
const REGISTRATION_RETRY_TIMER = 'registration-retry';
/** Written at the end of a clean shutdown with the broker epoch (KIP-966's clean-shutdown file). */
const CLEAN_SHUTDOWN_FILE = '.kafka_cleanshutdown';

type Response = Extract<KafkaMessage, { type: `${string}Response` }>;

/** The requests the group coordinator answers (KafkaApis routes them to GroupCoordinatorService). */
const GROUP_REQUESTS: ReadonlySet<string> = new Set(['JoinGroupRequest', 'SyncGroupRequest', 'HeartbeatRequest', 'LeaveGroupRequest', 'OffsetCommitRequest', 'OffsetFetchRequest']);
const GROUP_TIMERS: ReadonlySet<string> = new Set(GROUP_COORDINATOR_TIMERS);

/**
 * A Kafka broker process (sans-IO): on boot it recovers its logs from disk, registers with the
 * controller to get a broker epoch, heartbeats, and then serves produce and fetch requests for
 * the partitions the controller's metadata gives it, leading some and following others.
 * Everything it knows lives in this object and is lost in a crash, apart from its disk.
 */
export class Broker implements Node {
  readonly brokerId: number;
  readonly config: BrokerConfig;
  readonly switches: ProtocolSwitches;
  readonly logs: LogManager;
  readonly replicaManager: ReplicaManager;
  private epoch = -1;
  private fenced = true;
  /** Producer ids handed out by this incarnation (InitProducerId). */
  private producerIdsIssued = 0;
  /** Index into controllerIds of the controller this broker is talking to. */
  private controllerIndex = 0;
  /** SIGTERM received: heartbeats ask to shut down (BrokerLifecycleManager PENDING_CONTROLLED_SHUTDOWN). */
  private shuttingDown = false;
  private shutdownStarted = false;
  /** The broker epoch saved by the last clean shutdown (KIP-966), read at start. */
  private previousBrokerEpoch = -1;
  private readonly inFlight: InFlightRequests<Response>;
  /** Continuations waiting for a disk op (a flush) to complete. */
  private readonly afterOps = new Map<number, (() => void)[]>();
  /** The metadata log, fetched from the active controller (BrokerServer's RaftManager as an observer). */
  private readonly metadataLog: KafkaRaftClient | undefined;
  /** The cluster as this broker's copy of the metadata log says, up to what it has seen committed. */
  readonly metadataImage = new MetadataImage();
  /** Coordinates the consumer groups whose __consumer_offsets partition this broker leads. */
  readonly groupCoordinator: GroupCoordinator;
  private readonly memberIdRng: Random;

  constructor(
    private readonly ctx: NodeContext,
    private readonly options: BrokerOptions,
  ) {
    this.brokerId = options.brokerId;
    this.config = { ...DEFAULT_BROKER_CONFIG, ...options.config };
    this.switches = { ...CURRENT_KAFKA, ...options.switches };
    this.inFlight = new InFlightRequests<Response>(
      (name, delayUs, data) => ctx.setTimer(name, delayUs, data),
      (id) => ctx.cancelTimer(id),
    );
    this.logs = new LogManager(ctx.disk, logConfigFor(this.config, {}));
    this.replicaManager = new ReplicaManager(
      {
        brokerId: this.brokerId,
        config: this.config,
        switches: this.switches,
        nowMs: () => this.nowMs(),
        brokerEpoch: () => this.epoch,
        reply: (to, message) => ctx.send(to, message),
        request: (to, message, timeoutMs, onResponse) => this.request(to, message, timeoutMs, onResponse as (r: Response | undefined) => void),
        setTimer: (name, delayMs, data) => ctx.setTimer(name, Math.round(delayMs * 1000), data),
        cancelTimer: (id) => ctx.cancelTimer(id),
        afterDiskOp: (opId, then) => this.afterDiskOp(opId, then),
        record: (entry) => ctx.record({ ...entry, broker: this.brokerId }),
        controllerId: () => this.activeController(),
        onControllerUnreachable: () => this.nextController(),
        onLeadershipChange: (topic, partition, _epoch, isLeader) => this.onLeadershipChange(topic, partition, isLeader),
      },
      this.logs,
    );
    this.memberIdRng = ctx.rng.fork('member-ids');
    const c = this.config;
    this.groupCoordinator = new GroupCoordinator(
      {
        nowMs: () => this.nowMs(),
        setTimer: (name, delayMs, data) => ctx.setTimer(name, Math.round(delayMs * 1000), data),
        cancelTimer: (id) => ctx.cancelTimer(id),
        append: (partition, records, done) => this.appendGroupRecords(partition, records, done),
        nextMemberUuid: () => this.nextUuid(),
        record: (entry) => ctx.record({ ...entry, broker: this.brokerId }),
      },
      {
        'group.initial.rebalance.delay.ms': c['group.initial.rebalance.delay.ms'],
        'group.min.session.timeout.ms': c['group.min.session.timeout.ms'],
        'group.max.session.timeout.ms': c['group.max.session.timeout.ms'],
        'group.max.size': c['group.max.size'],
        'offsets.topic.num.partitions': c['offsets.topic.num.partitions'],
        'offsets.retention.minutes': c['offsets.retention.minutes'],
        'offsets.retention.check.interval.ms': c['offsets.retention.check.interval.ms'],
        'offset.metadata.max.bytes': c['offset.metadata.max.bytes'],
      },
    );
    if (options.followMetadataLog !== false) {
      this.metadataImage.trackChanges();
      this.metadataLog = new KafkaRaftClient(ctx, {
        nodeId: this.brokerId,
        voters: options.controllerIds,
        observer: true,
        onCommit: (entries) => this.onMetadataCommitted(entries),
      });
    }
  }

  /**
   * BrokerMetadataPublisher: committed metadata records are folded into the broker's image, and
   * the delta goes to the replica manager (ReplicaManager.applyDelta), which becomes leader or
   * follower in the new epochs. Each broker sees a change when its own fetch brings it in.
   */
  private onMetadataCommitted(entries: CommittedEntry[]): void {
    const fromOffset = this.metadataImage.offset;
    for (const e of entries) this.metadataImage.apply(e.record as MetadataRecord, e.offset);
    const changed = this.metadataImage.takeChanges();
    this.ctx.record({ type: 'broker-metadata', broker: this.brokerId, offset: this.metadataImage.offset });
    this.replicaManager.applyMetadata({
      type: 'MetadataUpdate',
      fromOffset,
      metadataOffset: this.metadataImage.offset,
      brokers: changed.brokers,
      partitions: changed.partitions,
      topicConfigs: changed.topics,
      sizeBytes: 0,
    });
  }

  /** The broker's Raft observer, for checks that read its copy of the metadata log. */
  get metadataRaftClient(): KafkaRaftClient | undefined {
    return this.metadataLog;
  }

  /** The metadata quorum as this broker sees it (an observer's view). */
  get metadataQuorum(): { leaderId: number | undefined; epoch: number; highWatermark: number | undefined; logEndOffset: number } | undefined {
    const r = this.metadataLog;
    return r === undefined ? undefined : { leaderId: r.leaderId, epoch: r.epoch, highWatermark: r.highWatermark, logEndOffset: r.logEndOffset };
  }

  /** The broker epoch from the controller, or -1 before registration. */
  get brokerEpoch(): number {
    return this.epoch;
  }

  get isFenced(): boolean {
    return this.fenced;
  }

  start(): void {
    // A clean shutdown left its broker epoch behind; consume it so a later crash is not "clean".
    const marker = this.ctx.disk.read(CLEAN_SHUTDOWN_FILE);
    if (marker.ok && marker.chunks.length > 0 && !marker.chunks[0].torn && !marker.chunks[0].corrupt) {
      this.previousBrokerEpoch = (marker.chunks[0].payload as { brokerEpoch: number }).brokerEpoch;
      this.ctx.disk.delete(CLEAN_SHUTDOWN_FILE);
    }
    // Topic overrides arrive with the metadata; until then logs load with the broker defaults.
    const recovered = this.logs.loadAll(this.nowMs(), () => logConfigFor(this.config, {}));
    this.ctx.record({ type: 'broker-start', broker: this.brokerId, incarnation: this.ctx.incarnation, logs: recovered.map((l) => ({ partition: `${l.topic}-${l.partition}`, leo: l.logEndOffset, hw: l.highWatermark })) });
    this.metadataLog?.start();
    this.register();
    this.every(ISR_EXPIRATION_TIMER, this.config['replica.lag.time.max.ms'] / 2);
    this.every(HW_CHECKPOINT_TIMER, this.config['replica.high.watermark.checkpoint.interval.ms']);
    this.every(RECOVERY_CHECKPOINT_TIMER, this.config['log.flush.offset.checkpoint.interval.ms']);
    this.every(RETENTION_TIMER, this.config['log.retention.check.interval.ms']);
  }

  onMessage(from: NodeId, message: Message): void {
    if (this.metadataLog?.handleMessage(from, message) === true) return;
    if (message.type === 'FindCoordinatorRequest') return this.handleFindCoordinator(from, message as FindCoordinatorRequest);
    if (GROUP_REQUESTS.has(message.type)) return this.groupCoordinator.handle(message as GroupRequest, (response) => this.ctx.send(from, response));
    const m = message as KafkaMessage;
    switch (m.type) {
      case 'ProduceRequest':
        return this.replicaManager.handleProduce(from, m);
      case 'FetchRequest':
        return this.replicaManager.handleFetch(from, m);
      case 'OffsetForLeaderEpochRequest':
        return this.replicaManager.handleOffsetForLeaderEpoch(from, m);
      case 'ListOffsetsRequest':
        return this.replicaManager.handleListOffsets(from, m);
      case 'MetadataUpdate':
        return this.replicaManager.applyMetadata(m);
      case 'MetadataRequest':
        return this.replicaManager.handleMetadata(from, m);
      case 'InitProducerIdRequest':
        // TransactionCoordinator.handleInitProducerId: a producer without a transactional id always
        // gets a fresh producer id at epoch 0. Kafka's ProducerIdManager hands out ids from blocks the
        // controller allocates durably (AllocateProducerIds, KIP-730), so no id is ever reused; here
        // each broker incarnation owns the block starting at (brokerId * 4096 + incarnation) * 2^20,
        // which is unique without the controller round trip.
        return this.ctx.send(from, {
          type: 'InitProducerIdResponse',
          correlationId: m.correlationId,
          error: Errors.NONE,
          producerId: (this.brokerId * 4096 + this.ctx.incarnation) * 2 ** 20 + this.producerIdsIssued++,
          producerEpoch: 0,
          sizeBytes: wireSize(1),
        });
      default:
        if (m.type.endsWith('Response')) this.inFlight.complete(m as Response);
    }
  }

  /** A peer's connection was reset (its process died): requests in flight to it fail now. */
  onConnectionReset(peer: NodeId): void {
    this.inFlight.failAllTo(peer);
  }

  onTimer(name: string, data: unknown): void {
    if (this.metadataLog?.handleTimer(name, data) === true) return;
    if (GROUP_TIMERS.has(name)) return this.groupCoordinator.onTimer(name, data);
    switch (name) {
      case REQUEST_TIMEOUT_TIMER:
        return this.inFlight.expire(data as number);
      case DELAYED_PRODUCE_TIMER:
        return this.replicaManager.expireProduce(data as Parameters<ReplicaManager['expireProduce']>[0]);
      case DELAYED_FETCH_TIMER:
        return this.replicaManager.completeFetch(data as Parameters<ReplicaManager['completeFetch']>[0]);
      case FETCHER_WAKE_TIMER:
        return this.replicaManager.wakeFetcher(data as number);
      case ALTER_PARTITION_RETRY_TIMER:
        return this.replicaManager.maybeSendAlterPartition();
      case HEARTBEAT_TIMER:
        this.heartbeat();
        return this.every(HEARTBEAT_TIMER, this.config['broker.heartbeat.interval.ms']);
      case REGISTRATION_RETRY_TIMER:
        return this.register();
      case ISR_EXPIRATION_TIMER:
        this.replicaManager.maybeShrinkIsr();
        return this.every(name, this.config['replica.lag.time.max.ms'] / 2);
      case HW_CHECKPOINT_TIMER:
        this.logs.checkpointHighWatermarks();
        return this.every(name, this.config['replica.high.watermark.checkpoint.interval.ms']);
      case RECOVERY_CHECKPOINT_TIMER:
        this.logs.checkpointRecoveryPointsAndLogStartOffsets();
        return this.every(name, this.config['log.flush.offset.checkpoint.interval.ms']);
      case RETENTION_TIMER:
        this.logs.cleanupLogs(this.nowMs());
        return this.every(name, this.config['log.retention.check.interval.ms']);
    }
  }

  onDiskComplete(completion: DiskCompletion): void {
    if (this.metadataLog?.handleDiskComplete(completion) === true) return;
    this.logs.onDiskComplete(completion);
    const waiting = this.afterOps.get(completion.opId);
    if (waiting === undefined) return;
    this.afterOps.delete(completion.opId);
    for (const then of waiting) then();
  }

  private nowMs(): number {
    return this.ctx.nowUs() / 1000;
  }

  // ------------------------------------------------------------ the group coordinator

  /**
   * KafkaApis.handleFindCoordinatorRequest → getCoordinator: the leader of the group's
   * __consumer_offsets partition, as this broker's metadata says. With no such topic or no
   * leader: COORDINATOR_NOT_AVAILABLE. (Kafka creates __consumer_offsets on the first
   * FindCoordinator; here it is created with the cluster's topics at startup.)
   */
  private handleFindCoordinator(from: number, req: FindCoordinatorRequest): void {
    const coordinators = req.coordinatorKeys.map((key) => {
      if (req.keyType !== COORDINATOR_TYPE_GROUP) return { key, nodeId: -1, error: Errors.INVALID_REQUEST as ErrorCode };
      const partition = groupCoordinatorPartition(key, this.config['offsets.topic.num.partitions']);
      const reg = this.replicaManager.registration(GROUP_METADATA_TOPIC_NAME, partition);
      if (reg === undefined || reg.leader < 0) return { key, nodeId: -1, error: Errors.COORDINATOR_NOT_AVAILABLE as ErrorCode };
      return { key, nodeId: reg.leader, error: Errors.NONE as ErrorCode };
    });
    this.ctx.send(from, { type: 'FindCoordinatorResponse', correlationId: req.correlationId, coordinators, sizeBytes: groupWireSize(coordinators.length) });
  }

  /**
   * GroupCoordinator.onElection / onResignation: a __consumer_offsets partition this broker now
   * leads is loaded from its log (CoordinatorLoaderImpl reads to the log end); one it stops
   * leading is unloaded. A new epoch of a partition already loaded keeps its state.
   */
  private onLeadershipChange(topic: string, partition: number, isLeader: boolean): void {
    if (topic !== GROUP_METADATA_TOPIC_NAME) return;
    if (!isLeader) return this.groupCoordinator.unloadPartition(partition);
    if (this.groupCoordinator.partitionState(partition) !== undefined) return;
    const log = this.replicaManager.partition(`${topic}-${partition}`)?.log;
    const records: GroupRecord[] = [];
    if (log !== undefined) {
      for (const batch of log.batchesFrom(log.logStartOffset)) for (const r of batch.records) records.push(JSON.parse(r.value) as GroupRecord);
    }
    this.groupCoordinator.loadPartition(partition, records);
  }

  /** CoordinatorPartitionWriter.append: acks=all to the local leader, done once the HW passes it. */
  private appendGroupRecords(partition: number, records: readonly GroupRecord[], done: (error: ErrorCode) => void): void {
    const nowMs = this.nowMs();
    const batch = makeBatch({
      baseOffset: 0,
      partitionLeaderEpoch: -1,
      producerId: NO_PRODUCER_ID,
      producerEpoch: NO_PRODUCER_EPOCH,
      baseSequence: NO_SEQUENCE,
      // Keyed as the log cleaner would compact them: one key per group, and per group-topic-partition.
      records: records.map((r) => ({ key: `${r.type}:${JSON.stringify(r.key)}`, value: JSON.stringify(r), timestampMs: Math.floor(nowMs) })),
    });
    this.replicaManager.appendRecords(
      { acks: -1, timeoutMs: this.config['offsets.commit.timeout.ms'], partitions: [{ topic: GROUP_METADATA_TOPIC_NAME, partition, batch }] },
      (results) => done(results[0].error),
    );
  }

  /** java.util.UUID.randomUUID().toString(), drawn from the broker's own stream. */
  private nextUuid(): string {
    let hex = '';
    for (let i = 0; i < 32; i++) {
      let d = this.memberIdRng.int(0, 15);
      if (i === 12) d = 4; // version 4
      if (i === 16) d = 8 + (d & 3); // IETF variant
      hex += d.toString(16);
    }
    return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
  }

  private every(name: string, periodMs: number): void {
    this.ctx.setTimer(name, Math.round(periodMs * 1000));
  }

  private afterDiskOp(opId: number, then: () => void): void {
    if (opId < 0) return then();
    const list = this.afterOps.get(opId);
    if (list === undefined) this.afterOps.set(opId, [then]);
    else list.push(then);
  }

  private request(to: number, message: KafkaMessage, timeoutMs: number, onResponse: (r: Response | undefined) => void): void {
    const correlationId = this.inFlight.newCorrelationId();
    const onTimeout = () => {
      // NetworkClient.handleTimedOutRequests: a timed-out request closes its connection.
      this.ctx.disconnect(to);
      onResponse(undefined);
    };
    this.inFlight.register(correlationId, { destination: to, onResponse, onTimeout }, Math.round(timeoutMs * 1000));
    this.ctx.send(to, Object.assign({}, message, { correlationId }));
  }

  private activeController(): number {
    return this.options.controllerIds[this.controllerIndex % this.options.controllerIds.length];
  }

  /** The controller did not answer, or is not active: try the next one. */
  private nextController(): void {
    this.controllerIndex = (this.controllerIndex + 1) % this.options.controllerIds.length;
  }

  /** BrokerLifecycleManager: register for a broker epoch, then heartbeat. */
  private register(): void {
    this.request(
      this.activeController(),
      { type: 'BrokerRegistrationRequest', correlationId: 0, brokerId: this.brokerId, incarnationId: this.ctx.incarnation, rack: this.ctx.rack, previousBrokerEpoch: this.previousBrokerEpoch, sizeBytes: wireSize(1) },
      this.config['request.timeout.ms'],
      (r) => {
        const response = r as BrokerRegistrationResponse | undefined;
        if (response === undefined || response.error === Errors.NOT_CONTROLLER) this.nextController();
        if (response === undefined || response.error !== Errors.NONE) {
          // BrokerLifecycleManager retries registration after a short backoff.
          this.ctx.setTimer(REGISTRATION_RETRY_TIMER, 100_000);
          return;
        }
        this.epoch = response.brokerEpoch;
        this.ctx.record({ type: 'broker-registered', broker: this.brokerId, brokerEpoch: this.epoch });
        this.heartbeat();
        this.every(HEARTBEAT_TIMER, this.config['broker.heartbeat.interval.ms']);
        this.replicaManager.maybeSendAlterPartition();
      },
    );
  }

  private heartbeat(): void {
    if (this.epoch < 0) return;
    this.request(
      this.activeController(),
      {
        type: 'BrokerHeartbeatRequest',
        correlationId: 0,
        brokerId: this.brokerId,
        brokerEpoch: this.epoch,
        currentMetadataOffset: this.replicaManager.currentMetadataOffset,
        wantFence: false,
        wantShutDown: this.shuttingDown,
        sizeBytes: wireSize(1),
      },
      this.config['broker.heartbeat.interval.ms'],
      (r) => {
        const response = r as BrokerHeartbeatResponse | undefined;
        if (response === undefined || response.error === Errors.NOT_CONTROLLER) {
          this.nextController();
          return;
        }
        if (response.error === Errors.STALE_BROKER_EPOCH) {
          // The controller has forgotten this incarnation: register again.
          this.epoch = -1;
          this.register();
          return;
        }
        if (response.error === Errors.NONE) this.fenced = response.isFenced;
        if (response.error === Errors.NONE && response.shouldShutDown && this.shuttingDown) this.finishShutdown();
      },
    );
  }

  /**
   * SIGTERM: controlled shutdown (KafkaBroker.shutdown, BrokerLifecycleManager). The broker asks
   * the controller to move its leaderships and take it out of every ISR, then, once told it may,
   * flushes its logs and checkpoints, leaves the clean-shutdown file, and exits.
   */
  onTerminate(): void {
    if (this.shuttingDown) return;
    this.shuttingDown = true;
    this.ctx.record({ type: 'controlled-shutdown', broker: this.brokerId, brokerEpoch: this.epoch });
    if (this.epoch < 0) return this.finishShutdown();
    this.heartbeat();
  }

  private finishShutdown(): void {
    if (this.shutdownStarted) return;
    this.shutdownStarted = true;
    const ops: number[] = [];
    for (const log of this.logs.allLogs()) ops.push(log.flush());
    ops.push(this.logs.checkpointHighWatermarks());
    ops.push(...this.logs.checkpointRecoveryPointsAndLogStartOffsets());
    ops.push(this.ctx.disk.writeAtomic(CLEAN_SHUTDOWN_FILE, { brokerEpoch: this.epoch }, 16));
    let waiting = ops.filter((op) => op >= 0).length;
    const done = () => {
      if (--waiting > 0) return;
      this.ctx.record({ type: 'broker-stopped', broker: this.brokerId, brokerEpoch: this.epoch, clean: true });
      this.ctx.exit();
    };
    if (waiting === 0) {
      waiting = 1;
      return done();
    }
    for (const op of ops) if (op >= 0) this.afterDiskOp(op, done);
  }
}
