import { invariant } from '../../engine/errors.js';
import type { Random } from '../../engine/random.js';
import type { DiskCompletion } from '../../world/disk.js';
import type { NodeContext, NodeId, TimerId } from '../../world/node.js';
import { Errors, errorName, type ErrorCode } from '../protocol/errors.js';
import { CandidateState } from './candidate-state.js';
import { orSentinel, type EpochElection, type EpochState, type RaftRole } from './epoch-state.js';
import { FollowerState } from './follower-state.js';
import { LeaderState } from './leader-state.js';
import { ProspectiveState } from './prospective-state.js';
import { FileQuorumStateStore, QuorumState } from './quorum-state.js';
import { compareOffsetAndEpoch, RaftLog, type RaftEntry } from './raft-log.js';
import {
  MAX_FETCH_WAIT_MS,
  NO_HIGH_WATERMARK,
  isRaftMessage,
  raftWireSize,
  type LeaderChangeMessage,
  type RaftBeginQuorumEpochRequest,
  type RaftBeginQuorumEpochResponse,
  type RaftEndQuorumEpochRequest,
  type RaftEndQuorumEpochResponse,
  type RaftFetchRequest,
  type RaftFetchResponse,
  type RaftMessage,
  type RaftRecordBatch,
  type RaftRequest,
  type RaftResponse,
  type RaftVoteRequest,
  type RaftVoteResponse,
} from './raft-messages.js';
import { RequestManager } from './request-manager.js';
import { ResignedState } from './resigned-state.js';
import { UnattachedState } from './unattached-state.js';

/** The one timer the client sets: a wake-up for its poll (KafkaRaftClient.poll's timeout). */
export const RAFT_POLL_TIMER = 'raft-poll';
/** KafkaRaftClient.RETRY_BACKOFF_BASE_MS: the unit of the ≤3.9 candidate backoff. */
const RETRY_BACKOFF_BASE_MS = 100;
/** Transitions that one poll may chain (Prospective → Candidate → Leader); a loop beyond is a bug. */
const MAX_POLL_ROUNDS = 8;
/** Events held during one quorum-state write (about 2 ms); far more means the write never completes. */
const MAX_DEFERRED_EVENTS = 100_000;

/** A committed data entry handed to `onCommit` (control entries are not, as in RaftClient.Listener.handleCommit). */
export interface CommittedEntry {
  readonly offset: number;
  readonly epoch: number;
  readonly record: unknown;
}

export interface KafkaRaftClientOptions {
  readonly nodeId: number;
  /** The static voter set (controller.quorum.voters; KIP-853 reconfiguration is not modelled). */
  readonly voters: readonly number[];
  /** controller.quorum.election.timeout.ms */
  readonly electionTimeoutMs?: number;
  /** controller.quorum.fetch.timeout.ms */
  readonly fetchTimeoutMs?: number;
  /** controller.quorum.election.backoff.max.ms */
  readonly electionBackoffMaxMs?: number;
  /** controller.quorum.request.timeout.ms */
  readonly requestTimeoutMs?: number;
  /** controller.quorum.retry.backoff.ms */
  readonly retryBackoffMs?: number;
  /** KIP-996 pre-vote: the 4.x flow when true (the default), the ≤3.9 flow (Candidate + backoff) when false. */
  readonly preVote?: boolean;
  /** A non-voter that fetches the log (a broker). Nodes not in `voters` are observers anyway. */
  readonly observer?: boolean;
  /** Committed data entries, in order, as the high watermark passes them. */
  readonly onCommit?: (entries: CommittedEntry[]) => void;
  /** The leader's LeaderChange entry is committed: it may act as the active controller. */
  readonly onBecomeLeader?: (epoch: number) => void;
  /** This node stopped being leader. */
  readonly onResign?: () => void;
}

/** The quorum configs the client runs with, Kafka's names in camelCase, in ms. */
export interface RaftConfig {
  readonly electionTimeoutMs: number;
  readonly fetchTimeoutMs: number;
  readonly electionBackoffMaxMs: number;
  readonly requestTimeoutMs: number;
  readonly retryBackoffMs: number;
  readonly preVote: boolean;
}

/** Kafka's defaults (QuorumConfig.java; KRAFT.md §1). */
export const DEFAULT_RAFT_CONFIG: Readonly<Omit<RaftConfig, 'preVote'>> = Object.freeze({
  electionTimeoutMs: 1_000,
  fetchTimeoutMs: 2_000,
  electionBackoffMaxMs: 1_000,
  requestTimeoutMs: 2_000,
  retryBackoffMs: 20,
});

/** A Fetch the leader holds until there is data, its HW moves, or maxWaitMs runs out (the fetch purgatory). */
interface ParkedFetch {
  readonly from: NodeId;
  readonly request: RaftFetchRequest;
  readonly deadlineUs: number;
}

/**
 * KafkaRaftClient (raft/.../KafkaRaftClient.java) as a sans-IO state machine: the hosting node
 * hands it messages, timer expiries and disk completions, and it acts through the node's context.
 * Roles are the classes QuorumState switches between (KRAFT.md §2); the protocol is KIP-595 with
 * KIP-996 pre-vote, fetch-based replication, truncation by diverging epoch, and the leader's
 * high-watermark rule (§3, §4).
 *
 * Kafka writes the quorum-state file synchronously inside its single-threaded poll, so nothing
 * the node does after a durable transition can be seen before the write is on disk. Here the
 * write takes simulated time; the client models the blocked thread exactly: while a write is in
 * flight, outgoing messages are held and every other event (messages, poll wake-ups, log disk
 * completions) is queued, and all of it goes on, in order, once the write completes. That is how a
 * vote is granted only after it is fsync'd, and why a crash in that window loses the vote and
 * every message that depended on it.
 */
export class KafkaRaftClient {
  private readonly config: RaftConfig;
  private readonly quorum: QuorumState;
  private readonly store: FileQuorumStateStore;
  private readonly log: RaftLog;
  private readonly requests: RequestManager;
  private readonly random: Random;
  private readonly outbox: { to: NodeId; message: RaftMessage }[] = [];
  private readonly deferred: (() => void)[] = [];
  private parkedFetches: ParkedFetch[] = [];
  private pollTimer: TimerId = -1;
  private pollAtUs = Infinity;
  /** Follower: the leader's HW from the last response, applied once the appended entries are flushed. */
  private pendingLeaderHighWatermark: number | undefined;
  /** The next offset to hand to `onCommit`. */
  private committedUpTo = 0;
  private leaderNotified = false;
  private fatalError: string | undefined;
  private started = false;

  constructor(
    private readonly ctx: NodeContext,
    private readonly options: KafkaRaftClientOptions,
  ) {
    invariant(options.voters.length > 0, 'a quorum needs at least one voter');
    invariant(new Set(options.voters).size === options.voters.length, `duplicate voters in ${options.voters.join(',')}`);
    this.config = {
      electionTimeoutMs: options.electionTimeoutMs ?? DEFAULT_RAFT_CONFIG.electionTimeoutMs,
      fetchTimeoutMs: options.fetchTimeoutMs ?? DEFAULT_RAFT_CONFIG.fetchTimeoutMs,
      electionBackoffMaxMs: options.electionBackoffMaxMs ?? DEFAULT_RAFT_CONFIG.electionBackoffMaxMs,
      requestTimeoutMs: options.requestTimeoutMs ?? DEFAULT_RAFT_CONFIG.requestTimeoutMs,
      retryBackoffMs: options.retryBackoffMs ?? DEFAULT_RAFT_CONFIG.retryBackoffMs,
      preVote: options.preVote ?? true,
    };
    this.random = ctx.rng.fork('raft');
    this.store = new FileQuorumStateStore(ctx.disk);
    this.log = new RaftLog(ctx.disk);
    this.requests = new RequestManager(this.config.requestTimeoutMs * 1000, this.config.retryBackoffMs * 1000, (to) => ctx.disconnect(to));
    this.quorum = new QuorumState(
      {
        localId: options.nodeId,
        voters: options.voters,
        electionTimeoutMs: this.config.electionTimeoutMs,
        fetchTimeoutMs: this.config.fetchTimeoutMs,
        observer: options.observer === true,
      },
      this.store,
      this.random,
      () => ctx.nowUs(),
    );
  }

  // ------------------------------------------------------------------ the node-facing API

  /** KafkaRaftClient.initialize: recover the log, pick the starting role from the quorum-state file. */
  start(): void {
    invariant(!this.started, 'KafkaRaftClient.start called twice');
    this.started = true;
    const recovery = this.log.recover();
    if (recovery.error !== undefined) return this.fail(`cannot read the metadata log: ${recovery.error}`);
    const stored = this.store.readElectionState();
    if (this.store.error !== undefined) return this.fail(`cannot read quorum-state: ${this.store.error}`);
    this.transition(() => this.quorum.initialize(this.log.endOffsetAndEpoch(), stored));
    // What recovery kept may be only in the page cache: a voter makes it durable before it
    // reports it in a Fetch or counts it as leader.
    if (this.quorum.isVoter) this.log.flush();
    this.ctx.record({
      type: 'raft-start',
      node: this.options.nodeId,
      role: this.quorum.role,
      epoch: this.quorum.epoch,
      logEndOffset: this.log.endOffset,
      droppedChunks: recovery.droppedChunks,
    });
    if (this.quorum.isOnlyVoter()) {
      // "If this node is the only voter, it becomes Candidate at once" (KafkaRaftClient.initialize).
      if (this.quorum.role === 'resigned') this.transition(() => this.quorum.transitionToUnattached(this.quorum.epoch + 1));
      if (this.quorum.role !== 'candidate') this.startElection();
    }
    this.poll();
  }

  /** Handles a Raft message; false if it is not one, so the hosting node can route it elsewhere. */
  handleMessage(from: NodeId, message: { readonly type: string }): boolean {
    if (!isRaftMessage(message)) return false;
    this.whenRunnable(() => this.dispatch(from, message));
    return true;
  }

  /** Handles the client's timer; false for any other timer. */
  handleTimer(name: string, _data?: unknown): boolean {
    if (name !== RAFT_POLL_TIMER) return false;
    this.pollTimer = -1;
    this.pollAtUs = Infinity;
    this.whenRunnable(() => {});
    return true;
  }

  /** Handles a completion of one of the client's disk ops; false for any other. */
  handleDiskComplete(c: DiskCompletion): boolean {
    if (this.store.handleDiskComplete(c)) {
      if (this.store.error !== undefined) this.fail(`quorum-state write failed: ${this.store.error}`);
      else if (!this.store.isWriting) this.resume();
      return true;
    }
    if (c.file !== this.log.file) return false;
    this.whenRunnable(() => this.onLogDiskComplete(c));
    return true;
  }

  /**
   * RaftClient.scheduleAppend (linger 0): the leader writes `records` as one batch in its epoch.
   * Returns the offset of the last record, or undefined if this node is not the leader.
   */
  append(records: readonly unknown[]): number | undefined {
    const s = this.quorum.state;
    if (this.fatalError !== undefined || !(s instanceof LeaderState) || records.length === 0) return undefined;
    const batch = this.log.appendAsLeader(records, s.epoch);
    this.log.flush();
    this.completeParkedFetches((p) => p.request.fetchOffset < this.log.endOffset);
    return batch.baseOffset + batch.records.length - 1;
  }

  get role(): RaftRole {
    return this.quorum.role;
  }

  get epoch(): number {
    return this.quorum.epoch;
  }

  get leaderId(): number | undefined {
    return this.quorum.leaderId;
  }

  get highWatermark(): number | undefined {
    return this.quorum.state.highWatermark;
  }

  get logEndOffset(): number {
    return this.log.endOffset;
  }

  /** The log end offset that is fsync'd. */
  get flushedOffset(): number {
    return this.log.flushedOffset;
  }

  get isVoter(): boolean {
    return this.quorum.isVoter;
  }

  /** A durable transition's quorum-state write is in flight: the client is "inside its poll". */
  get isWritingElectionState(): boolean {
    return this.store.isWriting;
  }

  /** Why the client stopped (a disk failure), as Kafka would exit; undefined while healthy. */
  get fatal(): string | undefined {
    return this.fatalError;
  }

  /** Entries of the local log in [from, to), uncommitted ones included. */
  entries(from = 0, to = this.log.endOffset): RaftEntry[] {
    return this.log.entries(from, to);
  }

  /** The entry at `offset`, or undefined. */
  entryAt(offset: number): RaftEntry | undefined {
    return this.log.entryAt(offset);
  }

  // ------------------------------------------------------------------ the blocked-poll model

  /** Runs `work` then polls, or queues it while a quorum-state write is in flight. */
  private whenRunnable(work: () => void): void {
    if (this.fatalError !== undefined) return;
    if (this.store.isWriting) {
      invariant(this.deferred.length < MAX_DEFERRED_EVENTS, `node ${this.options.nodeId}: ${MAX_DEFERRED_EVENTS} events waiting for a quorum-state write`);
      this.deferred.push(work);
      return;
    }
    work();
    this.poll();
  }

  /** The quorum-state write is on disk: release what it held, then run what waited, in order. */
  private resume(): void {
    for (const { to, message } of this.outbox.splice(0)) this.ctx.send(to, message);
    while (this.deferred.length > 0 && !this.store.isWriting && this.fatalError === undefined) {
      (this.deferred.shift() as () => void)();
      this.poll();
    }
    if (!this.store.isWriting) this.poll();
  }

  private send(to: NodeId, message: RaftMessage): void {
    if (this.store.isWriting) this.outbox.push({ to, message });
    else this.ctx.send(to, message);
  }

  private sendRequest(to: NodeId, build: (correlationId: number) => RaftRequest): void {
    const correlationId = this.requests.newCorrelationId();
    this.requests.onRequestSent(to, correlationId, this.nowUs());
    this.send(to, build(correlationId));
  }

  private fail(reason: string): void {
    if (this.fatalError !== undefined) return;
    this.fatalError = reason;
    if (this.pollTimer >= 0) this.ctx.cancelTimer(this.pollTimer);
    this.pollTimer = -1;
    this.ctx.record({ type: 'raft-fatal', node: this.options.nodeId, reason });
  }

  private nowUs(): number {
    return this.ctx.nowUs();
  }

  // ------------------------------------------------------------------ transitions

  /**
   * Every role change goes through here: requests in flight are forgotten (their responses are
   * "no longer needed"), parked fetches are answered from the new state, and listeners hear of a
   * lost leadership.
   */
  private transition(change: () => void): void {
    // Undefined only for the very first transition, QuorumState.initialize.
    const before = this.quorum.state as EpochState | undefined;
    change();
    const after = this.quorum.state;
    this.requests.resetAll();
    this.pendingLeaderHighWatermark = undefined;
    if (before instanceof LeaderState && after !== before) {
      const parked = this.parkedFetches;
      this.parkedFetches = [];
      for (const p of parked) this.handleFetchRequest(p.from, p.request, true);
      this.leaderNotified = false;
      this.options.onResign?.();
    }
    this.ctx.record({
      type: 'raft-transition',
      node: this.options.nodeId,
      from: before?.role ?? 'none',
      role: after.role,
      epoch: after.epoch,
      leaderId: orSentinel(after.leaderId),
      votedId: orSentinel(after.votedId),
    });
  }

  /** Unattached / Follower voter whose timer expired: Prospective in 4.x, straight to Candidate with pre-vote off. */
  private startElection(): void {
    if (this.config.preVote) this.transition(() => this.quorum.transitionToProspective());
    else this.transition(() => this.quorum.transitionToCandidate(false));
  }

  /** KafkaRaftClient.onBecomeLeader: the epoch starts at the LEO with a LeaderChange control entry. */
  private becomeLeader(): void {
    const epochStartOffset = this.log.endOffset;
    let leader: LeaderState | undefined;
    this.transition(() => {
      leader = this.quorum.transitionToLeader(epochStartOffset);
    });
    const state = leader as LeaderState;
    const leaderChange: LeaderChangeMessage = {
      type: 'LeaderChange',
      leaderId: this.options.nodeId,
      voters: this.options.voters.slice(),
      grantingVoters: state.grantingVoters.slice(),
    };
    // "The high watermark can only be advanced once we have written a record from the new leader's epoch."
    this.log.appendAsLeader([leaderChange], state.epoch, true);
    this.log.flush();
    if (state.updateLocalState(this.log.flushedOffset)) this.onUpdateLeaderHighWatermark(state);
  }

  // ------------------------------------------------------------------ poll

  /** KafkaRaftClient.poll: act on whatever the current role's deadlines say, then sleep until the next. */
  private poll(): void {
    if (this.fatalError !== undefined || !this.started) return;
    for (let round = 0; ; round++) {
      invariant(round < MAX_POLL_ROUNDS, `node ${this.options.nodeId}: poll chained more than ${MAX_POLL_ROUNDS} transitions`);
      const before = this.quorum.state;
      this.pollCurrentState();
      if (this.quorum.state === before) break;
    }
    this.armPollTimer();
  }

  private pollCurrentState(): void {
    const s = this.quorum.state;
    const now = this.nowUs();
    if (s instanceof LeaderState) this.pollLeader(s, now);
    else if (s instanceof CandidateState) this.pollCandidate(s, now);
    else if (s instanceof ProspectiveState) this.pollProspective(s, now);
    else if (s instanceof FollowerState) this.pollFollower(s, now);
    else if (s instanceof UnattachedState) this.pollUnattached(s, now);
    else if (s instanceof ResignedState) this.pollResigned(s, now);
  }

  private pollLeader(s: LeaderState, now: number): void {
    if (s.hasCheckQuorumExpired(now)) {
      // LeaderState check-quorum: no majority fetched within 1.5 × fetch timeout.
      this.transition(() => this.quorum.transitionToResigned(s.nonLeaderVotersByDescendingFetchOffset()));
      return;
    }
    if (s.needToSendBeginQuorumRequests(now)) {
      for (const voter of s.votersNeedingBeginQuorumEpoch(now)) {
        if (!this.requests.isReady(voter, now)) continue;
        this.sendRequest(voter, (correlationId): RaftBeginQuorumEpochRequest => ({
          type: 'RaftBeginQuorumEpochRequest',
          correlationId,
          leaderEpoch: s.epoch,
          leaderId: this.options.nodeId,
          voterId: voter,
          sizeBytes: raftWireSize(),
        }));
      }
      s.resetBeginQuorumEpochTimer(now);
    }
    const expired = this.parkedFetches.filter((p) => p.deadlineUs <= now);
    if (expired.length > 0) {
      this.parkedFetches = this.parkedFetches.filter((p) => p.deadlineUs > now);
      for (const p of expired) this.handleFetchRequest(p.from, p.request, true);
    }
  }

  private pollCandidate(s: CandidateState, now: number): void {
    const election = s.epochElection;
    if (election.isVoteGranted()) return this.becomeLeader();
    if (this.config.preVote) {
      // 4.x (pollCandidate, 4.3.1): only the election timeout ends a candidacy, "Election was not
      // granted, transitioning to prospective" (same epoch, no bump). A rejected candidate stops
      // asking and waits out its random timeout, which is what breaks the symmetry of two
      // candidates that keep granting each other's PreVotes.
      if (s.hasElectionTimeoutExpired(now)) return this.transition(() => this.quorum.transitionToProspective());
    } else if (s.isBackingOff()) {
      if (s.isBackoffComplete(now)) this.transition(() => this.quorum.transitionToCandidate(false));
      return;
    } else if (s.hasElectionTimeoutExpired(now) || election.isVoteRejected()) {
      // ≤3.9: back off a random, growing time, then run again in the next epoch.
      s.startBackingOff(now, this.binaryExponentialElectionBackoffMs(s.retries) * 1000);
      return;
    }
    this.maybeSendVoteRequests(s.epochElection, s.epoch, false, now);
  }

  private pollProspective(s: ProspectiveState, now: number): void {
    const election = s.epochElection;
    if (election.isVoteGranted()) return this.transition(() => this.quorum.transitionToCandidate(true));
    if (s.hasElectionTimeoutExpired(now) || election.isVoteRejected()) {
      // Lost the PreVote: back to following the known leader, or Unattached, in the same epoch.
      const leaderId = s.leaderId;
      if (leaderId !== undefined) this.transition(() => this.quorum.transitionToFollower(s.epoch, leaderId));
      else this.transition(() => this.quorum.transitionToUnattached(s.epoch));
      return;
    }
    this.maybeSendVoteRequests(election, s.epoch, true, now);
  }

  private pollFollower(s: FollowerState, now: number): void {
    this.maybeApplyFollowerHighWatermark(s);
    if (this.quorum.isVoter) {
      if (s.hasFetchTimeoutExpired(now)) return this.startElection();
      this.maybeSendFetch(s.leaderId, now);
    } else if (s.hasFetchTimeoutExpired(now)) this.maybeSendFetchToAnyBootstrap(now);
    else this.maybeSendFetch(s.leaderId, now);
  }

  private pollUnattached(s: UnattachedState, now: number): void {
    if (!this.quorum.isVoter) return this.maybeSendFetchToAnyBootstrap(now);
    if (s.hasElectionTimeoutExpired(now)) this.startElection();
  }

  private pollResigned(s: ResignedState, now: number): void {
    if (s.hasElectionTimeoutExpired(now)) return this.transition(() => this.quorum.transitionToUnattached(s.epoch + 1));
    for (const voter of s.unackedVoters()) {
      if (!this.requests.isReady(voter, now)) continue;
      this.sendRequest(voter, (correlationId): RaftEndQuorumEpochRequest => ({
        type: 'RaftEndQuorumEpochRequest',
        correlationId,
        leaderEpoch: s.epoch,
        leaderId: this.options.nodeId,
        preferredSuccessors: s.preferredSuccessors,
        sizeBytes: raftWireSize(),
      }));
    }
  }

  /** Sleeps until the earliest future deadline; one pending wake-up at a time. */
  private armPollTimer(): void {
    const now = this.nowUs();
    let next = Infinity;
    const consider = (atUs: number) => {
      if (atUs > now && atUs < next) next = atUs;
    };
    consider(this.quorum.state.nextDeadlineUs());
    consider(this.requests.nextDeadlineUs(now));
    for (const p of this.parkedFetches) consider(p.deadlineUs);
    if (next === Infinity) return;
    if (this.pollTimer >= 0 && this.pollAtUs <= next) return;
    if (this.pollTimer >= 0) this.ctx.cancelTimer(this.pollTimer);
    this.pollAtUs = next;
    this.pollTimer = this.ctx.setTimer(RAFT_POLL_TIMER, next - now);
  }

  /** KafkaRaftClient.binaryExponentialElectionBackoffMs (≤3.9). */
  private binaryExponentialElectionBackoffMs(retries: number): number {
    invariant(retries > 0, `retries ${retries} should be larger than zero`);
    const bound = 2 << Math.min(20, retries - 1);
    return Math.min(RETRY_BACKOFF_BASE_MS * this.random.int(0, bound - 1), this.config.electionBackoffMaxMs);
  }

  /** KafkaRaftClient.strictExponentialElectionBackoffMs: rank 0 runs at once, then 1/2^k of the max. */
  private strictExponentialElectionBackoffMs(position: number, total: number): number {
    const max = this.config.electionBackoffMaxMs;
    if (position === 0) return 0;
    if (position < 0 || position >= total) return max;
    const base = max >> (total - 1);
    return Math.min(max, base << (position - 1));
  }

  // ------------------------------------------------------------------ sending

  private maybeSendVoteRequests(election: EpochElection, epoch: number, preVote: boolean, now: number): void {
    if (election.isVoteRejected()) return;
    const last = this.log.endOffsetAndEpoch();
    for (const voter of election.unrecordedVoters()) {
      if (voter === this.options.nodeId || !this.requests.isReady(voter, now)) continue;
      this.sendRequest(voter, (correlationId): RaftVoteRequest => ({
        type: 'RaftVoteRequest',
        correlationId,
        candidateEpoch: epoch,
        candidateId: this.options.nodeId,
        voterId: voter,
        lastOffsetEpoch: last.epoch,
        lastOffset: last.offset,
        preVote,
        sizeBytes: raftWireSize(),
      }));
    }
  }

  /**
   * KafkaRaftClient.buildFetchRequest. A follower fetches only when its log is idle: a voter has
   * fsync'd what it appended (so `fetchOffset` is a durable LEO, which the leader counts), and no
   * append is queued behind which a truncation could slip.
   */
  private maybeSendFetch(destination: number, now: number): void {
    if (this.log.hasPendingWrites || !this.requests.isReady(destination, now)) return;
    const hw = this.quorum.state.highWatermark;
    this.sendRequest(destination, (correlationId): RaftFetchRequest => ({
      type: 'RaftFetchRequest',
      correlationId,
      replicaId: this.options.nodeId,
      currentLeaderEpoch: this.quorum.epoch,
      fetchOffset: this.log.endOffset,
      lastFetchedEpoch: this.log.lastFetchedEpoch(),
      maxWaitMs: MAX_FETCH_WAIT_MS,
      highWatermark: hw ?? NO_HIGH_WATERMARK,
      sizeBytes: raftWireSize(),
    }));
  }

  /** An observer that does not know (or lost) the leader asks a random voter (maybeSendFetchToAnyBootstrap). */
  private maybeSendFetchToAnyBootstrap(now: number): void {
    if (this.requests.hasInFlight(now)) return;
    const ready = this.options.voters.filter((v) => v !== this.options.nodeId && this.requests.isReady(v, now));
    if (ready.length === 0) return;
    this.maybeSendFetch(this.random.pick(ready), now);
  }

  private respond(to: NodeId, message: RaftResponse): void {
    this.send(to, message);
  }

  // ------------------------------------------------------------------ dispatch

  private dispatch(from: NodeId, m: RaftMessage): void {
    switch (m.type) {
      case 'RaftVoteRequest':
        return this.handleVoteRequest(from, m);
      case 'RaftBeginQuorumEpochRequest':
        return this.handleBeginQuorumEpochRequest(from, m);
      case 'RaftEndQuorumEpochRequest':
        return this.handleEndQuorumEpochRequest(from, m);
      case 'RaftFetchRequest':
        return this.handleFetchRequest(from, m, false);
      default:
        return this.handleResponse(from, m);
    }
  }

  private handleResponse(from: NodeId, r: RaftResponse): void {
    // "Ignoring response since it is no longer needed": a transition reset the connections.
    if (!this.requests.isResponseExpected(from, r.correlationId)) return;
    let ok: boolean;
    switch (r.type) {
      case 'RaftVoteResponse':
        ok = this.handleVoteResponse(from, r);
        break;
      case 'RaftBeginQuorumEpochResponse':
        ok = this.handleBeginQuorumEpochResponse(r);
        break;
      case 'RaftEndQuorumEpochResponse':
        ok = this.handleEndQuorumEpochResponse(from, r);
        break;
      case 'RaftFetchResponse':
        ok = this.handleFetchResponse(r);
        break;
    }
    this.requests.onResponseResult(from, r.correlationId, ok, this.nowUs());
  }

  /**
   * KafkaRaftClient.maybeHandleCommonResponse: every response names the sender's epoch and
   * leader. Returns true/false when the response is fully handled (ok or not), undefined when the
   * caller should go on with it.
   */
  private maybeHandleCommonResponse(error: ErrorCode, leaderId: number, epoch: number): boolean | undefined {
    const leader = leaderId >= 0 ? leaderId : undefined;
    if (epoch < this.quorum.epoch || error === Errors.UNKNOWN_LEADER_EPOCH) return true;
    if (epoch > this.quorum.epoch || error === Errors.FENCED_LEADER_EPOCH || error === Errors.NOT_LEADER_OR_FOLLOWER) {
      this.maybeTransition(leader, epoch);
      return true;
    }
    if (epoch === this.quorum.epoch && leader !== undefined && !this.quorum.hasLeader()) {
      // "This handling allows an observer to discover the leader and append to the log in the same Fetch request."
      this.transition(() => this.quorum.transitionToFollower(epoch, leader));
      return error === Errors.NONE ? undefined : true;
    }
    if (error === Errors.INVALID_REQUEST) return false;
    return undefined;
  }

  /** KafkaRaftClient.maybeTransition: follow a newer epoch, or learn this epoch's leader. */
  private maybeTransition(leaderId: number | undefined, epoch: number): void {
    invariant(
      this.hasConsistentLeader(epoch, leaderId),
      `node ${this.options.nodeId}: leader ${String(leaderId)} in epoch ${epoch} is inconsistent with ${String(this.quorum.leaderId)} in epoch ${this.quorum.epoch} (${this.quorum.role})`,
    );
    if (epoch > this.quorum.epoch) {
      if (leaderId !== undefined) this.transition(() => this.quorum.transitionToFollower(epoch, leaderId));
      else this.transition(() => this.quorum.transitionToUnattached(epoch));
    } else if (epoch === this.quorum.epoch && leaderId !== undefined && !this.quorum.hasLeader()) {
      this.transition(() => this.quorum.transitionToFollower(epoch, leaderId));
    }
  }

  /**
   * KafkaRaftClient.hasConsistentLeader, a Raft safety assertion: nobody may name this node leader
   * unless it is (or, after resigning, was) the leader of that epoch, and no epoch has two leaders.
   */
  private hasConsistentLeader(epoch: number, leaderId: number | undefined): boolean {
    if (leaderId !== undefined && leaderId === this.options.nodeId) {
      return epoch < this.quorum.epoch || this.quorum.role === 'leader' || this.quorum.role === 'resigned';
    }
    return epoch !== this.quorum.epoch || leaderId === undefined || this.quorum.leaderId === undefined || leaderId === this.quorum.leaderId;
  }

  // ------------------------------------------------------------------ Vote

  /** KafkaRaftClient.handleVoteRequest, in Kafka's order (KRAFT.md §3.2). */
  private handleVoteRequest(from: NodeId, req: RaftVoteRequest): void {
    const respond = (error: ErrorCode, voteGranted: boolean) =>
      this.respond(from, {
        type: 'RaftVoteResponse',
        correlationId: req.correlationId,
        error,
        leaderEpoch: this.quorum.epoch,
        leaderId: orSentinel(this.quorum.leaderId),
        voteGranted,
        sizeBytes: raftWireSize(),
      });
    const illegalEpoch = req.preVote ? req.lastOffsetEpoch > req.candidateEpoch : req.lastOffsetEpoch >= req.candidateEpoch;
    if (req.lastOffset < 0 || req.lastOffsetEpoch < 0 || illegalEpoch) return respond(Errors.INVALID_REQUEST, false);
    if (req.candidateEpoch < this.quorum.epoch) return respond(Errors.FENCED_LEADER_EPOCH, false);
    if (req.candidateId < 0) return respond(Errors.INVALID_REQUEST, false);
    // Observers never vote.
    if (!this.quorum.isVoter) return respond(Errors.NONE, false);
    // The copy of KafkaRaftClient read does this for a PreVote too (KRAFT.md §12.1).
    if (req.candidateEpoch > this.quorum.epoch) this.transition(() => this.quorum.transitionToUnattached(req.candidateEpoch));
    if (req.voterId !== this.options.nodeId) return respond(Errors.INVALID_REQUEST, false);
    const isLogUpToDate = compareOffsetAndEpoch({ offset: req.lastOffset, epoch: req.lastOffsetEpoch }, this.log.endOffsetAndEpoch()) >= 0;
    const state = this.quorum.state;
    const voteGranted = state.canGrantVote(req.candidateId, isLogUpToDate, req.preVote);
    if (!req.preVote && voteGranted && state.votedId === undefined) {
      // Durable: the response below is held until the vote is fsync'd.
      if (state instanceof UnattachedState) this.transition(() => this.quorum.unattachedAddVotedState(req.candidateEpoch, req.candidateId));
      else if (state instanceof ProspectiveState) this.transition(() => this.quorum.prospectiveAddVotedState(req.candidateEpoch, req.candidateId));
    }
    respond(Errors.NONE, voteGranted);
  }

  private handleVoteResponse(from: NodeId, r: RaftVoteResponse): boolean {
    const handled = this.maybeHandleCommonResponse(r.error, r.leaderId, r.leaderEpoch);
    if (handled !== undefined) return handled;
    if (r.error !== Errors.NONE) return false;
    const s = this.quorum.state;
    // The outcome (win, lose) is acted on by the poll that follows.
    if (s instanceof CandidateState || s instanceof ProspectiveState) s.epochElection.recordVote(from, r.voteGranted);
    return true;
  }

  // ------------------------------------------------------------------ BeginQuorumEpoch / EndQuorumEpoch

  private handleBeginQuorumEpochRequest(from: NodeId, req: RaftBeginQuorumEpochRequest): void {
    const respond = (error: ErrorCode) =>
      this.respond(from, {
        type: 'RaftBeginQuorumEpochResponse',
        correlationId: req.correlationId,
        error,
        leaderEpoch: this.quorum.epoch,
        leaderId: orSentinel(this.quorum.leaderId),
        sizeBytes: raftWireSize(),
      });
    if (req.leaderEpoch < this.quorum.epoch) return respond(Errors.FENCED_LEADER_EPOCH);
    this.maybeTransition(req.leaderId, req.leaderEpoch);
    if (req.voterId !== this.options.nodeId) return respond(Errors.INVALID_REQUEST);
    respond(Errors.NONE);
  }

  private handleBeginQuorumEpochResponse(r: RaftBeginQuorumEpochResponse): boolean {
    const handled = this.maybeHandleCommonResponse(r.error, r.leaderId, r.leaderEpoch);
    if (handled !== undefined) return handled;
    return r.error === Errors.NONE;
  }

  private handleEndQuorumEpochRequest(from: NodeId, req: RaftEndQuorumEpochRequest): void {
    const respond = (error: ErrorCode) =>
      this.respond(from, {
        type: 'RaftEndQuorumEpochResponse',
        correlationId: req.correlationId,
        error,
        leaderEpoch: this.quorum.epoch,
        leaderId: orSentinel(this.quorum.leaderId),
        sizeBytes: raftWireSize(),
      });
    if (req.leaderEpoch < this.quorum.epoch) return respond(Errors.FENCED_LEADER_EPOCH);
    this.maybeTransition(req.leaderId, req.leaderEpoch);
    const s = this.quorum.state;
    if (s instanceof FollowerState && s.leaderId === req.leaderId) {
      // endEpochElectionBackoff: the most up-to-date successor runs first.
      let position = req.preferredSuccessors.indexOf(this.options.nodeId);
      if (position < 0) position = req.preferredSuccessors.length;
      const backoffMs = this.strictExponentialElectionBackoffMs(position, req.preferredSuccessors.length);
      s.overrideFetchTimeout(this.nowUs(), backoffMs * 1000);
    }
    respond(Errors.NONE);
  }

  private handleEndQuorumEpochResponse(from: NodeId, r: RaftEndQuorumEpochResponse): boolean {
    const handled = this.maybeHandleCommonResponse(r.error, r.leaderId, r.leaderEpoch);
    if (handled !== undefined) return handled;
    const s = this.quorum.state;
    if (r.error === Errors.NONE && s instanceof ResignedState) s.acknowledgeResignation(from);
    return r.error === Errors.NONE;
  }

  // ------------------------------------------------------------------ Fetch (leader side)

  /**
   * KafkaRaftClient.handleFetchRequest / tryCompleteFetchRequest (KRAFT.md §4.2). `completing` is
   * true when a parked fetch is being answered: it is answered now, whatever it finds.
   */
  private handleFetchRequest(from: NodeId, req: RaftFetchRequest, completing: boolean): void {
    const s = this.quorum.state;
    const respond = (error: ErrorCode, extra: { divergingEpoch?: RaftFetchResponse['divergingEpoch']; records?: readonly RaftRecordBatch[] } = {}) => {
      const records = extra.records ?? [];
      this.respond(from, {
        type: 'RaftFetchResponse',
        correlationId: req.correlationId,
        error,
        leaderEpoch: this.quorum.epoch,
        leaderId: orSentinel(this.quorum.leaderId),
        highWatermark: this.quorum.state.highWatermark ?? NO_HIGH_WATERMARK,
        divergingEpoch: extra.divergingEpoch,
        records,
        sizeBytes: raftWireSize(records),
      });
    };
    if (req.fetchOffset < 0 || req.lastFetchedEpoch < 0 || req.lastFetchedEpoch > req.currentLeaderEpoch || req.maxWaitMs < 0) {
      return respond(Errors.INVALID_REQUEST);
    }
    // validateLeaderOnlyRequest
    if (req.currentLeaderEpoch < this.quorum.epoch) return respond(Errors.FENCED_LEADER_EPOCH);
    if (req.currentLeaderEpoch > this.quorum.epoch) return respond(Errors.UNKNOWN_LEADER_EPOCH);
    if (!(s instanceof LeaderState)) return respond(Errors.NOT_LEADER_OR_FOLLOWER);
    const now = this.nowUs();
    s.updateCheckQuorumForFollowingVoter(req.replicaId, now);
    const validation = this.log.validateOffsetAndEpoch(req.fetchOffset, req.lastFetchedEpoch);
    if (validation.kind === 'diverging') return respond(Errors.NONE, { divergingEpoch: { epoch: validation.epoch, endOffset: validation.endOffset } });
    if (s.updateReplicaState(req.replicaId, now, req.fetchOffset)) this.onUpdateLeaderHighWatermark(s);
    const records = this.log.read(req.fetchOffset);
    const hwDiffers = req.highWatermark !== (s.highWatermark ?? NO_HIGH_WATERMARK);
    if (completing || records.length > 0 || req.maxWaitMs === 0 || hwDiffers) return respond(Errors.NONE, { records });
    this.parkedFetches.push({ from, request: req, deadlineUs: now + req.maxWaitMs * 1000 });
  }

  /** Answers parked fetches that `ready` picks (the fetch purgatory's maybeComplete). */
  private completeParkedFetches(ready: (p: ParkedFetch) => boolean): void {
    const done = this.parkedFetches.filter(ready);
    if (done.length === 0) return;
    this.parkedFetches = this.parkedFetches.filter((p) => !ready(p));
    for (const p of done) this.handleFetchRequest(p.from, p.request, true);
  }

  /** KafkaRaftClient.onUpdateLeaderHighWatermark: wake fetchers, deliver commits. */
  private onUpdateLeaderHighWatermark(s: LeaderState): void {
    const hw = s.highWatermark as number;
    this.completeParkedFetches((p) => p.request.highWatermark !== hw);
    this.updateListenersProgress(hw);
    if (!this.leaderNotified) {
      // The LeaderChange entry is committed: Kafka's handleLeaderChange reaches the listener once
      // it has read up to the epoch start offset.
      this.leaderNotified = true;
      this.ctx.record({ type: 'raft-leader-ready', node: this.options.nodeId, epoch: s.epoch, highWatermark: hw });
      this.options.onBecomeLeader?.(s.epoch);
    }
  }

  /** Delivers the committed data entries below `hw` not yet delivered (updateListenersProgress). */
  private updateListenersProgress(hw: number): void {
    if (hw <= this.committedUpTo) return;
    const committed: CommittedEntry[] = [];
    for (const e of this.log.entries(this.committedUpTo, hw)) if (!e.control) committed.push({ offset: e.offset, epoch: e.epoch, record: e.record });
    this.committedUpTo = hw;
    if (committed.length > 0) this.options.onCommit?.(committed);
  }

  // ------------------------------------------------------------------ Fetch (follower side)

  /** KafkaRaftClient.handleFetchResponse (KRAFT.md §4.3). */
  private handleFetchResponse(r: RaftFetchResponse): boolean {
    const before = this.quorum.state;
    const handled = this.maybeHandleCommonResponse(r.error, r.leaderId, r.leaderEpoch);
    // An error that taught us nothing (a resigned leader, a voter that knows no leader either):
    // Kafka fetches again at once; backing off retry.backoff.ms keeps followers and observers
    // from spinning on the network until a new leader turns up.
    if (handled === true && r.error !== Errors.NONE && this.quorum.state === before) return false;
    if (handled !== undefined) return handled;
    if (r.error !== Errors.NONE) {
      this.ctx.record({ type: 'raft-unexpected-error', node: this.options.nodeId, error: errorName(r.error) });
      return false;
    }
    const s = this.quorum.state;
    invariant(s instanceof FollowerState, `node ${this.options.nodeId}: a successful fetch response in ${s.role}`);
    const now = this.nowUs();
    if (r.divergingEpoch !== undefined) {
      const hw = s.highWatermark ?? 0;
      // Kafka: "requested truncation ... below the current high watermark" is fatal.
      invariant(r.divergingEpoch.endOffset >= hw, `node ${this.options.nodeId}: truncation to ${r.divergingEpoch.endOffset} below the high watermark ${hw}`);
      const truncatedTo = this.log.truncateToEndOffset({ epoch: r.divergingEpoch.epoch, offset: r.divergingEpoch.endOffset });
      // Kafka leaves the truncation to the next flush; a voter flushes it now, so that the
      // shorter log it reports next is the one a power loss would leave.
      if (this.quorum.isVoter) this.log.flush();
      invariant(truncatedTo >= hw, `node ${this.options.nodeId}: truncated to ${truncatedTo} below the high watermark ${hw}`);
      this.ctx.record({ type: 'raft-truncate', node: this.options.nodeId, epoch: s.epoch, divergingEpoch: r.divergingEpoch.epoch, truncatedTo });
    } else {
      for (const batch of r.records) this.log.appendAsFollower(batch);
      // Voters fsync before the next Fetch reports the new LEO; brokers (observers) do not
      // (followersAlwaysFlush = false).
      if (this.quorum.isVoter) this.log.flush();
    }
    s.resetFetchTimeoutForSuccessfulFetch(now);
    if (r.highWatermark >= 0) this.pendingLeaderHighWatermark = r.highWatermark;
    this.maybeApplyFollowerHighWatermark(s);
    return true;
  }

  /** updateFollowerHighWatermark: min(LEO, leader's HW), once what it covers is flushed (voters). */
  private maybeApplyFollowerHighWatermark(s: FollowerState): void {
    const leaderHw = this.pendingLeaderHighWatermark;
    if (leaderHw === undefined || (this.quorum.isVoter && this.log.hasPendingWrites)) return;
    this.pendingLeaderHighWatermark = undefined;
    const hw = Math.min(this.log.endOffset, leaderHw);
    if (s.updateHighWatermark(hw)) this.updateListenersProgress(hw);
  }

  private onLogDiskComplete(c: DiskCompletion): void {
    this.log.handleDiskComplete(c);
    if (this.log.error !== undefined) return this.fail(`metadata log write failed: ${this.log.error}`);
    const s = this.quorum.state;
    if (s instanceof LeaderState && s.updateLocalState(this.log.flushedOffset)) this.onUpdateLeaderHighWatermark(s);
  }
}
