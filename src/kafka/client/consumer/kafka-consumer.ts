/**
 * A Kafka consumer process running an application loop (sans-IO): apache/kafka clients/src/main/
 * java/org/apache/kafka/clients/consumer/internals/ClassicKafkaConsumer.java (the classic group
 * protocol) with its ConsumerCoordinator, Fetcher and OffsetFetcher (see the files next to this
 * one), driving a simulated application:
 *
 *   while (running) {
 *     records = consumer.poll(pollTimeoutMs);          // history: poll
 *     for (record of records) { process(record); sideEffect(record); }   // processingMs each
 *     commit per commitMode;                           // history: commit
 *   }
 *
 * poll() is modelled as Kafka's loop: each turn runs ConsumerCoordinator.poll (rebalance, auto-
 * commit), updateFetchPositions, then returns buffered records or sends fetches and waits, until
 * records arrive or the poll timeout passes. Nothing the application thread does happens while the
 * application processes; the heartbeat thread and the handling of answers go on regardless.
 * See CONSUMER.md for the history entries and where the model departs from Kafka.
 */
import { CURRENT_KAFKA, type ProtocolSwitches } from '../../protocol/switches.js';
import type { MetadataResponse } from '../../protocol/messages.js';
import { wireSize } from '../../protocol/messages.js';
import type { TopicPartition } from '../../protocol/topic-partition.js';
import type { Message, Node, NodeContext, NodeId } from '../../../world/node.js';
import { NetworkClient, type ClientMessage, type ClientResponse } from '../network-client.js';
import { ExponentialBackoff } from '../producer/exponential-backoff.js';
import { ProducerMetadata } from '../producer/producer-metadata.js';
import { ConfigException, parseConsumerConfig, type ConsumerConfig, type ConsumerConfigInput } from './consumer-config.js';
import { ConsumerCoordinator, type ConsumerRebalanceListener, type CoordinatorFailure, type OffsetToCommit } from './consumer-coordinator.js';
import { Fetcher, type ConsumerRecord } from './fetcher.js';
import { SubscriptionState, sortTps } from './subscription-state.js';

/**
 * How the simulated application commits:
 * - `auto`: only enable.auto.commit (the next poll commits what earlier polls returned);
 * - `sync-after-processing`: commitSync() after processing each poll's records;
 * - `async-after-processing`: commitAsync() after processing each poll's records;
 * - `none`: never commits;
 * - `async-processing`: poll hands records to a worker that processes them later, while
 *   auto-commit commits what poll returned (a crash loses handed-off records: at-most-once).
 */
export type CommitMode = 'auto' | 'sync-after-processing' | 'async-after-processing' | 'none' | 'async-processing';

export const COMMIT_MODES: readonly CommitMode[] = ['auto', 'sync-after-processing', 'async-after-processing', 'none', 'async-processing'];

export interface KafkaConsumerOptions {
  /** Broker node ids to ask for metadata first (bootstrap.servers). */
  readonly bootstrap: readonly NodeId[];
  /** Kafka's consumer configs, by Kafka's names; validated as Kafka does. */
  readonly config?: ConsumerConfigInput;
  /** `fetchEpochFencing: false` sends no leader epochs and never validates positions (pre-KIP-320). */
  readonly switches?: Partial<ProtocolSwitches>;
  /** subscribe(topics) at start (group management). */
  readonly topics?: readonly string[];
  /** assign(partitions) at start (no group management). */
  readonly assignment?: readonly TopicPartition[];
  readonly listener?: ConsumerRebalanceListener;
  /** The application (kafkaesque options, not Kafka configs). */
  readonly app?: ConsumerAppOptions;
}

export interface ConsumerAppOptions {
  /** Processing time per record, in ms (default 0). */
  readonly processingMs?: number;
  /** Default: `auto` with enable.auto.commit, else `none`. */
  readonly commitMode?: CommitMode;
  /** The timeout of each poll(Duration) call (default 1000 ms). */
  readonly pollTimeoutMs?: number;
  /** The application thread freezes at this time (since the process started) ... */
  readonly stallAtMs?: number;
  /** ... for this long; heartbeats go on (KIP-62), poll() is not called. */
  readonly stallForMs?: number;
  /** Whether the application loop runs from start (default true when topics or an assignment are given). */
  readonly run?: boolean;
}

type AppState =
  | { kind: 'idle' }
  | { kind: 'polling'; deadlineMs: number }
  | { kind: 'processing'; records: ConsumerRecord[]; index: number; doneAtMs: number }
  | { kind: 'committing'; deadlineMs: number; retryAtMs: number; inFlight: boolean; offsets: OffsetToCommit[] }
  | { kind: 'closing'; phase: 'commit' | 'leave'; deadlineMs: number; inFlight: boolean }
  | { kind: 'closed' };

const REQUEST_TIMEOUT_TIMER = 'consumer-request-timeout';
const WAKEUP_TIMER = 'consumer-wakeup';
const APP_TIMER = 'consumer-app';
const WORKER_TIMER = 'consumer-worker';
const STALL_TIMER = 'consumer-stall';
const EXIT_TIMER = 'consumer-exit';
/** ClassicKafkaConsumer.DEFAULT_CLOSE_TIMEOUT_MS. */
const DEFAULT_CLOSE_TIMEOUT_MS = 30_000;

export class KafkaConsumer implements Node {
  readonly config: ConsumerConfig;
  readonly commitMode: CommitMode;
  readonly processingMs: number;
  readonly pollTimeoutMs: number;
  readonly subscriptions: SubscriptionState;
  readonly metadata: ProducerMetadata;
  readonly network: NetworkClient;
  readonly coordinator: ConsumerCoordinator;
  readonly fetcher: Fetcher;
  /** Every record poll() returned, in order. */
  readonly polled: ConsumerRecord[] = [];
  /** Every side effect the application made, in order. */
  readonly sideEffects: ConsumerRecord[] = [];
  private app: AppState = { kind: 'idle' };
  private listener: ConsumerRebalanceListener | undefined;
  private readonly retryBackoff: ExponentialBackoff;
  private readonly epochFencing: boolean;
  private metadataInFlight = false;
  private offsetFetchInFlight = false;
  private offsetFetchRetryAtMs = 0;
  private offsetFetchAttempts = 0;
  private pendingError: string | null = null;
  private wakeupAtMs = Infinity;
  private wakeupTimer = -1;
  private appTimer = -1;
  private stalledUntilMs = -Infinity;
  private shutdownRequested = false;
  private exitAfterClose = false;
  private readonly workerQueue: ConsumerRecord[] = [];
  private workerBusy = false;
  private running = false;

  constructor(
    private readonly ctx: NodeContext,
    private readonly options: KafkaConsumerOptions,
  ) {
    if (!Array.isArray(options.bootstrap) || options.bootstrap.length === 0) throw new RangeError('KafkaConsumer: bootstrap must list at least one broker id');
    const parsed = parseConsumerConfig(options.config);
    // The cooperativeRebalance switch off is a client from before KIP-429: no cooperative
    // protocol, so cooperative-sticky is plain sticky and every rebalance stops the world.
    this.config = { ...CURRENT_KAFKA, ...options.switches }.cooperativeRebalance
      ? parsed
      : { ...parsed, 'partition.assignment.strategy': [...new Set(parsed['partition.assignment.strategy'].map((s) => (s === 'cooperative-sticky' ? 'sticky' : s)))] };
    const app = options.app ?? {};
    this.commitMode = app.commitMode ?? (this.config['enable.auto.commit'] ? 'auto' : 'none');
    if (!COMMIT_MODES.includes(this.commitMode)) throw new ConfigException(`commitMode must be one of ${COMMIT_MODES.join(', ')}, got ${String(this.commitMode)}`);
    if ((this.commitMode === 'auto' || this.commitMode === 'async-processing') && !this.config['enable.auto.commit']) {
      throw new ConfigException(`commitMode ${this.commitMode} relies on enable.auto.commit=true`);
    }
    this.processingMs = nonNegative('processingMs', app.processingMs ?? 0);
    this.pollTimeoutMs = nonNegative('pollTimeoutMs', app.pollTimeoutMs ?? 1000);
    if (app.stallAtMs !== undefined) nonNegative('stallAtMs', app.stallAtMs);
    if (app.stallForMs !== undefined) nonNegative('stallForMs', app.stallForMs);
    this.epochFencing = { ...CURRENT_KAFKA, ...options.switches }.fetchEpochFencing;
    const c = this.config;
    const rng = ctx.rng;
    this.retryBackoff = new ExponentialBackoff(c['retry.backoff.ms'], c['retry.backoff.max.ms'], rng.fork('retry-backoff'));
    const reconnectBackoff = new ExponentialBackoff(c['reconnect.backoff.ms'], c['reconnect.backoff.max.ms'], rng.fork('reconnect-backoff'));
    this.subscriptions = new SubscriptionState(c['auto.offset.reset']);
    this.metadata = new ProducerMetadata(c['metadata.max.age.ms'], (n) => this.retryBackoff.backoffMs(n));
    this.network = new NetworkClient(
      {
        nowMs: () => this.nowMs(),
        send: (to, message) => ctx.send(to, message),
        disconnect: (to) => ctx.disconnect(to),
        setTimer: (name, delayUs, data) => ctx.setTimer(name, delayUs, data),
        cancelTimer: (id) => ctx.cancelTimer(id),
      },
      c['request.timeout.ms'],
      (n) => reconnectBackoff.backoffMs(n),
      rng.fork('least-loaded-node'),
      REQUEST_TIMEOUT_TIMER,
    );
    const self = this;
    this.coordinator = new ConsumerCoordinator(c, {
      nowMs: () => this.nowMs(),
      network: this.network,
      metadata: this.metadata,
      subscriptions: this.subscriptions,
      brokers: () => this.brokers(),
      record: (e) => this.record(e),
      retryBackoffMs: (n) => this.retryBackoff.backoffMs(n),
      invokeCallback: (cb, partitions) => this.invokeCallback(cb, partitions),
      assignmentChanged: (reason) => this.assignmentChanged(reason),
    });
    this.fetcher = new Fetcher(c, {
      nowMs: () => this.nowMs(),
      network: this.network,
      metadata: this.metadata,
      subscriptions: this.subscriptions,
      get epochFencing() {
        return self.epochFencing;
      },
      record: (e) => this.record(e),
      retryBackoffMs: (n) => this.retryBackoff.backoffMs(n),
      raise: (error) => this.raise(error),
    });
  }

  // ------------------------------------------------------------ Node

  start(): void {
    const o = this.options;
    if (o.topics !== undefined && o.assignment !== undefined) throw new ConfigException('KafkaConsumer: give either topics (subscribe) or assignment (assign), not both');
    if (o.topics !== undefined) this.subscribe(o.topics, o.listener);
    if (o.assignment !== undefined) this.assign(o.assignment);
    const app = o.app ?? {};
    if (app.stallAtMs !== undefined && (app.stallForMs ?? 0) > 0) this.ctx.setTimer(STALL_TIMER, Math.round(app.stallAtMs * 1000));
    if (app.run ?? (o.topics !== undefined || o.assignment !== undefined)) this.runApplication();
    this.step();
  }

  onMessage(_from: NodeId, message: Message): void {
    const m = message as ClientMessage;
    if (m.type.endsWith('Response')) this.network.handleResponse(m as ClientResponse);
    this.step();
  }

  /** NetworkClient sees the broker's connection closed (a reset): what was in flight fails now. */
  onConnectionReset(peer: NodeId): void {
    if (this.network.inFlightCount(peer) === 0) return;
    this.network.disconnect(peer);
    this.step();
  }

  onTimer(name: string, data: unknown): void {
    switch (name) {
      case REQUEST_TIMEOUT_TIMER:
        this.network.handleTimeout(data as number);
        break;
      case WAKEUP_TIMER:
        this.wakeupAtMs = Infinity;
        this.wakeupTimer = -1;
        break;
      case APP_TIMER:
        this.appTimer = -1;
        this.onAppTimer();
        break;
      case WORKER_TIMER:
        this.onWorkerDone();
        break;
      case EXIT_TIMER:
        this.ctx.exit();
        return;
      case STALL_TIMER: {
        const forMs = this.options.app?.stallForMs ?? 0;
        this.stalledUntilMs = this.nowMs() + forMs;
        this.record({ type: 'app-stall', forMs, appState: this.app.kind });
        if (this.app.kind === 'processing') this.app.doneAtMs = Math.max(this.app.doneAtMs, this.stalledUntilMs);
        this.scheduleWakeup(this.stalledUntilMs);
        break;
      }
    }
    this.step();
  }

  /** SIGTERM: the application stops at its next poll(), closes the consumer, and the process exits. */
  onTerminate(): void {
    this.exitAfterClose = true;
    if (!this.running || this.app.kind === 'idle') {
      this.beginClose();
    } else {
      this.shutdownRequested = true;
      // KafkaConsumer.wakeup(): a blocked poll() returns at once.
      if (this.app.kind === 'polling') this.beginClose();
    }
    this.step();
  }

  // ------------------------------------------------------------ KafkaConsumer API

  /** KafkaConsumer.subscribe(topics, listener). */
  subscribe(topics: readonly string[], listener?: ConsumerRebalanceListener): void {
    if (!Array.isArray(topics) || topics.some((t) => typeof t !== 'string' || t.trim() === '')) throw new TypeError('Topic collection to subscribe to cannot contain null or empty topic');
    if (this.config['group.id'] === null) throw new ConfigException('InvalidGroupIdException: To use the group management or offset commit APIs, you must provide a valid group.id in the consumer configuration.');
    // ClassicKafkaConsumer.throwIfNoAssignorsConfigured.
    if (this.config['partition.assignment.strategy'].length === 0) throw new ConfigException('Must configure at least one partition assigner class name to partition.assignment.strategy configuration property');
    this.listener = listener ?? this.options.listener;
    this.subscriptions.subscribe(topics);
    for (const t of topics) this.metadata.add(t);
    this.metadata.requestUpdate();
    this.record({ type: 'subscribe', topics: [...topics].sort() });
  }

  /** KafkaConsumer.assign(partitions): manual assignment, no group management. */
  assign(partitions: readonly TopicPartition[]): void {
    this.subscriptions.assignFromUser(partitions);
    for (const tp of partitions) this.metadata.add(tp.topic);
    this.metadata.requestUpdate();
    this.assignmentChanged('user-assign');
  }

  /** Starts the application loop (poll, process, commit). */
  runApplication(): void {
    if (this.running) return;
    this.running = true;
    this.beginPoll();
  }

  /** KafkaConsumer.close(): commit (with auto-commit), revoke, LeaveGroup; the process keeps running. */
  close(): void {
    this.beginClose();
    this.step();
  }

  // ------------------------------------------------------------ inspection

  get memberId(): string {
    return this.coordinator.generation.memberId;
  }

  get generationId(): number {
    return this.coordinator.generation.generationId;
  }

  get groupState(): string {
    return this.coordinator.state;
  }

  get appState(): string {
    return this.app.kind;
  }

  assignment(): TopicPartition[] {
    return this.subscriptions.assignedPartitions();
  }

  /** The position (next offset to fetch) of an assigned partition, or null. */
  position(topic: string, partition: number): number | null {
    const s = this.subscriptions.state({ topic, partition });
    return s?.position?.offset ?? null;
  }

  // ------------------------------------------------------------ the loop

  private step(): void {
    const nowMs = this.nowMs();
    let wake = this.coordinator.heartbeatStep(nowMs);
    this.maybeUpdateMetadata(nowMs);
    if (this.app.kind === 'polling' && nowMs >= this.stalledUntilMs) this.pollStep(nowMs);
    if (this.app.kind === 'committing' && nowMs >= this.stalledUntilMs) this.commitSyncStep(nowMs);
    if (this.app.kind === 'closing') this.closeStep(nowMs);
    // The heartbeat thread may have acted on the answers pollStep produced.
    wake = Math.min(wake, this.coordinator.heartbeatStep(nowMs));
    if (this.app.kind === 'polling' || this.app.kind === 'committing' || this.app.kind === 'closing') {
      wake = Math.min(wake, this.app.deadlineMs, nowMs + this.config['retry.backoff.ms']);
      if (this.app.kind === 'polling' && this.config['enable.auto.commit']) wake = Math.min(wake, Math.max(nowMs + 1, this.coordinator.nextAutoCommitMs));
    }
    if (nowMs < this.stalledUntilMs) wake = Math.min(wake, this.stalledUntilMs);
    if (!this.metadataInFlight && this.needsMetadata()) wake = Math.min(wake, Math.max(nowMs + 1, this.metadata.nextUpdateMs()));
    this.scheduleWakeup(wake);
  }

  private scheduleWakeup(atMs: number): void {
    if (this.app.kind === 'closed') return;
    const nowMs = this.nowMs();
    if (atMs === Infinity) return;
    atMs = Math.max(atMs, nowMs + 1);
    if (atMs >= this.wakeupAtMs && this.wakeupAtMs > nowMs) return;
    if (this.wakeupTimer >= 0) this.ctx.cancelTimer(this.wakeupTimer);
    this.wakeupAtMs = atMs;
    this.wakeupTimer = this.ctx.setTimer(WAKEUP_TIMER, Math.max(1, atMs * 1000 - this.ctx.nowUs()));
  }

  private needsMetadata(): boolean {
    return this.metadata.topicsWanted().length > 0 && this.app.kind !== 'closed';
  }

  /** NetworkClient's DefaultMetadataUpdater.maybeUpdate: one MetadataRequest at a time, to the least loaded broker. */
  private maybeUpdateMetadata(nowMs: number): void {
    if (this.metadataInFlight || !this.needsMetadata() || this.metadata.nextUpdateMs() > nowMs) return;
    const node = this.network.leastLoadedNode(this.brokers(), nowMs);
    if (node === undefined) return;
    this.metadataInFlight = true;
    const topics = this.metadata.topicsWanted();
    this.network.send(
      node,
      { type: 'MetadataRequest', correlationId: 0, topics, sizeBytes: wireSize(topics.length) },
      (r) => {
        this.metadataInFlight = false;
        this.metadata.update(r as MetadataResponse, this.nowMs());
        this.coordinator.onMetadataUpdate();
      },
      () => {
        this.metadataInFlight = false;
        this.metadata.failedUpdate(this.nowMs());
      },
    );
  }

  private brokers(): readonly number[] {
    const known = this.metadata.brokers();
    return known.length > 0 ? known : this.options.bootstrap;
  }

  // ------------------------------------------------------------ poll()

  private beginPoll(): void {
    if (this.shutdownRequested) return this.beginClose();
    this.app = { kind: 'polling', deadlineMs: this.nowMs() + this.pollTimeoutMs };
  }

  /** One turn of ClassicKafkaConsumer.poll's loop. */
  private pollStep(nowMs: number): void {
    if (this.app.kind !== 'polling') return;
    const active = this.coordinator.poll(nowMs);
    if (this.coordinator.fatalError !== null) return this.onPollException(this.coordinator.fatalError);
    if (active) this.updateFetchPositions(nowMs);
    if (this.pendingError !== null) {
      const error = this.pendingError;
      this.pendingError = null;
      return this.onPollException(error);
    }
    this.fetcher.retainAssigned();
    const records = this.fetcher.collectFetch(this.config['max.poll.records']);
    // Pipelining: the next fetches go out before poll() returns.
    this.fetcher.sendFetches(nowMs);
    if (records.length > 0 || nowMs >= this.app.deadlineMs) this.returnFromPoll(records);
  }

  /** ClassicKafkaConsumer.updateFetchPositions. */
  private updateFetchPositions(nowMs: number): void {
    this.fetcher.validatePositionsOnMetadataChange();
    this.fetcher.validatePositionsIfNeeded(nowMs);
    const initializing = this.subscriptions.states().filter((s) => s.fetchState === 'INITIALIZING');
    if (initializing.length > 0) {
      if (this.config['group.id'] === null) {
        for (const s of initializing) this.subscriptions.requestOffsetReset(s);
      } else if (!this.offsetFetchInFlight && nowMs >= this.offsetFetchRetryAtMs) {
        this.refreshCommittedOffsets(initializing.map((s) => s.tp));
      }
    }
    this.fetcher.resetPositionsIfNeeded(nowMs);
  }

  /** ConsumerCoordinator.refreshCommittedOffsetsIfNeeded. */
  private refreshCommittedOffsets(partitions: TopicPartition[]): void {
    const sent = this.coordinator.fetchCommittedOffsets(partitions, (result, failure) => {
      this.offsetFetchInFlight = false;
      if (failure !== null || result === null) {
        if (failure !== null && !failure.retriable) return this.raise(`KafkaException: OffsetFetch failed: ${failure.error}`);
        this.offsetFetchRetryAtMs = this.nowMs() + this.retryBackoff.backoffMs(this.offsetFetchAttempts++);
        return;
      }
      this.offsetFetchAttempts = 0;
      const fetched: { topic: string; partition: number; offset: number | null; leaderEpoch: number | null }[] = [];
      for (const tp of partitions) {
        const s = this.subscriptions.state(tp);
        if (s === undefined || s.fetchState !== 'INITIALIZING') continue;
        const committed = result.get(`${tp.topic}-${tp.partition}`) ?? null;
        fetched.push({ topic: tp.topic, partition: tp.partition, offset: committed?.offset ?? null, leaderEpoch: committed?.leaderEpoch ?? null });
        if (committed !== null) {
          // "Setting offset for partition to the committed offset"
          this.fetcher.validatePosition(s, this.fetcher.currentLeaderPosition(committed.offset, committed.leaderEpoch, tp));
        } else {
          // SubscriptionState.resetInitializingPositions: no committed offset → auto.offset.reset.
          this.subscriptions.requestOffsetReset(s);
        }
      }
      if (fetched.length > 0) this.record({ type: 'offset-fetch', partitions: fetched });
    });
    this.offsetFetchInFlight = sent;
  }

  private returnFromPoll(records: ConsumerRecord[]): void {
    const g = this.coordinator.generation;
    this.polled.push(...records);
    this.record({
      type: 'poll',
      memberId: g.memberId,
      generation: g.generationId,
      records: records.map((r) => ({ topic: r.topic, partition: r.partition, offset: r.offset, value: r.value })),
    });
    if (records.length === 0) return this.beginPoll();
    if (this.commitMode === 'async-processing') {
      this.workerQueue.push(...records);
      this.startWorker();
      return this.beginPoll();
    }
    this.app = { kind: 'processing', records, index: 0, doneAtMs: 0 };
    this.startRecord();
  }

  private onPollException(error: string): void {
    // The application's try/finally: the exception ends the loop, the consumer is closed and the process exits.
    this.record({ type: 'consumer-error', error, fatal: true });
    this.exitAfterClose = true;
    this.beginClose();
  }

  private raise(error: string): void {
    if (this.pendingError === null) this.pendingError = error;
  }

  // ------------------------------------------------------------ processing

  private startRecord(): void {
    if (this.app.kind !== 'processing') return;
    const nowMs = this.nowMs();
    this.app.doneAtMs = Math.max(nowMs + this.processingMs, this.stalledUntilMs);
    this.armAppTimer(this.app.doneAtMs);
  }

  private armAppTimer(atMs: number): void {
    if (this.appTimer >= 0) this.ctx.cancelTimer(this.appTimer);
    this.appTimer = this.ctx.setTimer(APP_TIMER, Math.max(0, Math.round(atMs * 1000 - this.ctx.nowUs())));
  }

  private onAppTimer(): void {
    if (this.app.kind !== 'processing') return;
    const nowMs = this.nowMs();
    if (nowMs < this.app.doneAtMs || nowMs < this.stalledUntilMs) return this.armAppTimer(Math.max(this.app.doneAtMs, this.stalledUntilMs));
    const record = this.app.records[this.app.index];
    this.sideEffect(record);
    this.app.index++;
    if (this.app.index < this.app.records.length) return this.startRecord();
    this.afterProcessing();
  }

  private sideEffect(r: ConsumerRecord): void {
    this.sideEffects.push(r);
    this.record({ type: 'side-effect', topic: r.topic, partition: r.partition, offset: r.offset, value: r.value });
  }

  private afterProcessing(): void {
    switch (this.commitMode) {
      case 'sync-after-processing': {
        const nowMs = this.nowMs();
        this.app = { kind: 'committing', deadlineMs: nowMs + this.config['default.api.timeout.ms'], retryAtMs: nowMs, inFlight: false, offsets: this.subscriptions.allConsumed() };
        return;
      }
      case 'async-after-processing':
        this.coordinator.commitOffsetsAsync(this.subscriptions.allConsumed(), 'async', () => {});
        return this.beginPoll();
      default:
        return this.beginPoll();
    }
  }

  /**
   * ConsumerCoordinator.commitOffsetsSync: retries retriable failures (after finding the
   * coordinator again) until default.api.timeout.ms; a non-retriable failure (CommitFailedException,
   * RebalanceInProgressException) is thrown to the application, which carries on polling.
   */
  private commitSyncStep(nowMs: number): void {
    const app = this.app;
    if (app.kind !== 'committing' || app.inFlight) return;
    if (nowMs >= app.deadlineMs) {
      this.record({ type: 'commit-timeout', kind: 'sync', offsets: app.offsets, error: `TimeoutException: Timeout of ${this.config['default.api.timeout.ms']}ms expired before successfully committing offsets` });
      return this.beginPoll();
    }
    if (nowMs < app.retryAtMs) return;
    if (this.coordinator.coordinatorUnknown() && app.offsets.length > 0) {
      this.coordinator.lookupCoordinator(nowMs);
      return;
    }
    app.inFlight = true;
    this.coordinator.commitOffsetsAsync(app.offsets, 'sync', (failure: CoordinatorFailure | null) => {
      app.inFlight = false;
      if (this.app !== app) return;
      if (failure === null || !failure.retriable) return this.beginPoll();
      app.retryAtMs = this.nowMs() + this.config['retry.backoff.ms'];
    });
  }

  // ------------------------------------------------------------ async processing worker

  private startWorker(): void {
    if (this.workerBusy || this.workerQueue.length === 0) return;
    this.workerBusy = true;
    this.ctx.setTimer(WORKER_TIMER, Math.round(this.processingMs * 1000));
  }

  private onWorkerDone(): void {
    this.workerBusy = false;
    const r = this.workerQueue.shift();
    if (r !== undefined) this.sideEffect(r);
    this.startWorker();
  }

  // ------------------------------------------------------------ close

  /** ClassicKafkaConsumer.close → ConsumerCoordinator.close: auto-commit synchronously, then revoke and LeaveGroup. */
  private beginClose(): void {
    if (this.app.kind === 'closing' || this.app.kind === 'closed') return;
    this.running = false;
    if (this.appTimer >= 0) this.ctx.cancelTimer(this.appTimer);
    this.appTimer = -1;
    this.record({ type: 'close', phase: 'invoke' });
    const autoCommit = this.config['enable.auto.commit'] && this.subscriptions.type !== 'NONE' && this.coordinator.fatalError === null;
    this.app = { kind: 'closing', phase: autoCommit ? 'commit' : 'leave', deadlineMs: this.nowMs() + DEFAULT_CLOSE_TIMEOUT_MS, inFlight: false };
  }

  private closeStep(nowMs: number): void {
    const app = this.app;
    if (app.kind !== 'closing' || app.inFlight) return;
    if (app.phase === 'commit') {
      // ConsumerCoordinator.maybeAutoCommitOffsetsSync(timer), bounded by the close timeout.
      if (nowMs >= app.deadlineMs) {
        app.phase = 'leave';
      } else if (this.coordinator.coordinatorUnknown() && this.subscriptions.allConsumed().length > 0) {
        this.coordinator.lookupCoordinator(nowMs);
        return;
      } else {
        app.inFlight = true;
        this.coordinator.commitOffsetsAsync(this.subscriptions.allConsumed(), 'close', (failure) => {
          app.inFlight = false;
          if (failure === null || !failure.retriable) app.phase = 'leave';
          this.step();
        });
        return;
      }
    }
    this.coordinator.close();
    this.app = { kind: 'closed' };
    this.record({ type: 'close', phase: 'ok' });
    if (this.exitAfterClose) {
      // Give the LeaveGroup a moment on the wire before the process is gone.
      this.ctx.setTimer(EXIT_TIMER, 1_000_000);
      this.exitAfterClose = false;
    }
  }

  // ------------------------------------------------------------ rebalance callbacks and history

  private invokeCallback(callback: 'onPartitionsRevoked' | 'onPartitionsAssigned' | 'onPartitionsLost', partitions: TopicPartition[]): void {
    const sorted = sortTps(partitions);
    const g = this.coordinator.generation;
    this.record({ type: 'rebalance-callback', callback, memberId: g.memberId, generation: g.generationId, partitions: sorted });
    const l = this.listener;
    if (l === undefined) return;
    // Exceptions from the user's callbacks are Kafka's KafkaException("User rebalance callback throws an error").
    if (callback === 'onPartitionsLost') {
      if (l.onPartitionsLost !== undefined) l.onPartitionsLost(sorted);
      else l.onPartitionsRevoked?.(sorted); // ConsumerRebalanceListener's default onPartitionsLost
    } else {
      l[callback]?.(sorted);
    }
  }

  private assignmentChanged(reason: string): void {
    this.fetcher.retainAssigned();
    const g = this.coordinator.generation;
    this.record({ type: 'assignment', reason, memberId: g.memberId, generation: g.generationId, partitions: this.subscriptions.assignedPartitions() });
  }

  private record(entry: { type: string } & Record<string, unknown>): void {
    const clean: Record<string, unknown> = { consumer: this.ctx.name, group: this.config['group.id'] };
    for (const [k, v] of Object.entries(entry)) if (v !== undefined) clean[k] = v;
    this.ctx.record({ ...(clean as { type: string }), type: entry.type });
  }

  /** Kafka's clock: whole milliseconds. */
  private nowMs(): number {
    return Math.floor(this.ctx.nowUs() / 1000);
  }
}

function nonNegative(name: string, v: number): number {
  if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) throw new ConfigException(`${name} must be a non-negative number of milliseconds, got ${String(v)}`);
  return v;
}
