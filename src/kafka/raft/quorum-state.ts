import { invariant } from '../../engine/errors.js';
import type { Random } from '../../engine/random.js';
import type { DiskCompletion, DiskError, DiskHandle } from '../../world/disk.js';
import { CandidateState } from './candidate-state.js';
import { Deadline, type ElectionState, type EpochState, type RaftRole } from './epoch-state.js';
import { FollowerState } from './follower-state.js';
import { LeaderState } from './leader-state.js';
import { ProspectiveState } from './prospective-state.js';
import { METADATA_LOG_DIR, type OffsetAndEpoch } from './raft-log.js';
import { ResignedState } from './resigned-state.js';
import { UnattachedState } from './unattached-state.js';

export const QUORUM_STATE_FILE = `${METADATA_LOG_DIR}/quorum-state`;
/** The JSON file is small; its size only matters for the disk's byte accounting. */
const QUORUM_STATE_SIZE_BYTES = 96;

/** What the quorum-state file holds on disk (FileQuorumStateStore's JSON, data_version 0). */
export interface QuorumStateData extends ElectionState {
  readonly dataVersion: 0;
}

/**
 * FileQuorumStateStore: the election state in `quorum-state`, replaced atomically and fsync'd
 * (write quorum-state.tmp, flush, fsync, atomic move), modelled as one `writeAtomic`: after a
 * crash or a power loss the file is the old version or the new one, never a mix. Kafka writes it
 * synchronously inside the poll; here the write completes later, and the client holds every
 * outgoing message and every other event until it has (see KafkaRaftClient).
 */
export class FileQuorumStateStore {
  private readonly pending = new Set<number>();
  private diskError: DiskError | undefined;

  constructor(
    private readonly disk: DiskHandle,
    readonly file: string = QUORUM_STATE_FILE,
  ) {}

  /** The stored election state; undefined if there is no file yet (a new node). */
  readElectionState(): ElectionState | undefined {
    const read = this.disk.read(this.file);
    if (!read.ok) {
      if (read.error === 'EIO') this.diskError = 'EIO';
      return undefined;
    }
    const chunk = read.chunks[0];
    // writeAtomic never leaves a torn file; a bad sector fails the read, as a JSON parse error would.
    if (chunk === undefined || chunk.corrupt === true || chunk.torn === true) {
      this.diskError = 'EIO';
      return undefined;
    }
    return readElectionState(chunk.payload);
  }

  writeElectionState(election: ElectionState): void {
    const data: QuorumStateData = { epoch: election.epoch, leaderId: election.leaderId, votedId: election.votedId, dataVersion: 0 };
    const opId = this.disk.writeAtomic(this.file, data, QUORUM_STATE_SIZE_BYTES);
    if (opId >= 0) this.pending.add(opId);
  }

  /** A write has been issued and not yet completed. */
  get isWriting(): boolean {
    return this.pending.size > 0;
  }

  get error(): DiskError | undefined {
    return this.diskError;
  }

  /** Routes a disk completion; false if it is not one of this store's writes. */
  handleDiskComplete(c: DiskCompletion): boolean {
    if (!this.pending.delete(c.opId)) return false;
    if (!c.ok) this.diskError = c.error;
    return true;
  }
}

/** Reads an ElectionState out of a quorum-state chunk's payload (also used by checkers). */
export function readElectionState(payload: unknown): ElectionState {
  const data = payload as QuorumStateData;
  return { epoch: data.epoch, leaderId: data.leaderId, votedId: data.votedId };
}

export interface QuorumStateConfig {
  readonly localId: number;
  readonly voters: readonly number[];
  readonly electionTimeoutMs: number;
  readonly fetchTimeoutMs: number;
  /** A non-voter (a broker): it fetches but never votes, runs, or counts. */
  readonly observer: boolean;
}

/**
 * QuorumState.java: the current role object and the legal transitions between roles, each
 * checked as Kafka checks it (an illegal one is a bug, so it fails an invariant). Durable
 * transitions write the election state before the role changes; Prospective and Resigned are
 * soft states and write nothing.
 */
export class QuorumState {
  private current!: EpochState;
  readonly isVoter: boolean;

  constructor(
    private readonly config: QuorumStateConfig,
    private readonly store: FileQuorumStateStore,
    private readonly random: Random,
    private readonly nowUs: () => number,
  ) {
    this.isVoter = config.voters.includes(config.localId) && !config.observer;
  }

  get state(): EpochState {
    return this.current;
  }

  get role(): RaftRole {
    return this.current.role;
  }

  get epoch(): number {
    return this.current.epoch;
  }

  get leaderId(): number | undefined {
    return this.current.leaderId;
  }

  get localId(): number {
    return this.config.localId;
  }

  get voters(): readonly number[] {
    return this.config.voters;
  }

  get isObserver(): boolean {
    return !this.isVoter;
  }

  isOnlyVoter(): boolean {
    return this.config.voters.length === 1 && this.isVoter;
  }

  hasLeader(): boolean {
    return this.current.leaderId !== undefined;
  }

  /**
   * QuorumState.randomElectionTimeoutMs: `electionTimeoutMs + random.nextInt(electionTimeoutMs)`,
   * uniform over whole milliseconds in [T, 2T - 1]. Observers never run: their timeout is infinite.
   */
  randomElectionTimeoutUs(): number {
    if (!this.isVoter) return Infinity;
    const t = this.config.electionTimeoutMs;
    if (t === 0) return 0;
    return (t + this.random.int(0, t - 1)) * 1000;
  }

  /**
   * QuorumState.initialize: the role to start in, from the stored election state (read by the
   * caller, FileQuorumStateStore.readElectionState) and the log (KRAFT.md §2.3, checked in Kafka's
   * order). The result is written back, as Kafka does.
   */
  initialize(logEnd: OffsetAndEpoch, storedElection: ElectionState | undefined): void {
    // No file: ElectionState.withUnknownLeader(0, voters).
    const stored = storedElection ?? { epoch: 0, leaderId: -1, votedId: -1 };
    const now = this.nowUs();
    const localId = this.config.localId;
    let initial: EpochState;
    if (stored.epoch < logEnd.epoch) {
      // The log has seen a later epoch than the file (the file was lost or is stale).
      initial = new UnattachedState(logEnd.epoch, undefined, undefined, undefined, Deadline.after(now, this.randomElectionTimeoutUs()));
    } else if (stored.leaderId === localId) {
      // "Ensures that we cannot vote for another leader in the same epoch", and that no (offset,
      // epoch) is written twice if a power loss took unflushed entries of this epoch.
      invariant(this.isVoter, `observer ${localId} finds itself leader in its quorum-state`);
      initial = new ResignedState(stored.epoch, localId, this.config.voters, Deadline.after(now, this.randomElectionTimeoutUs()), []);
    } else if (stored.votedId === localId) {
      invariant(this.isVoter, `observer ${localId} finds a vote for itself in its quorum-state`);
      initial = new CandidateState(stored.epoch, localId, this.config.voters, undefined, Deadline.after(now, this.randomElectionTimeoutUs()), 1);
    } else if (stored.leaderId >= 0) {
      initial = new FollowerState(stored.epoch, stored.leaderId, idOrUndefined(stored.votedId), undefined, this.fetchTimeoutUs(), now);
    } else {
      initial = new UnattachedState(stored.epoch, undefined, idOrUndefined(stored.votedId), undefined, Deadline.after(now, this.randomElectionTimeoutUs()));
    }
    this.durableTransitionTo(initial);
  }

  /** QuorumState.transitionToUnattached: a later epoch, or the same one coming from Prospective. */
  transitionToUnattached(epoch: number, leaderId?: number): void {
    const s = this.current;
    invariant(epoch > s.epoch || (epoch === s.epoch && s.role === 'prospective'), `cannot go Unattached in epoch ${epoch} from ${s.role} in epoch ${s.epoch}`);
    const now = this.nowUs();
    let timeoutUs: number;
    // The remaining time carries over, so a flurry of epoch changes does not keep postponing the election.
    if (!this.isVoter) timeoutUs = Infinity;
    else if (s instanceof CandidateState || s instanceof UnattachedState || s instanceof ResignedState) timeoutUs = s.remainingElectionTimeUs(now);
    else if (s instanceof ProspectiveState && !s.epochElection.isVoteRejected()) timeoutUs = s.remainingElectionTimeUs(now);
    else timeoutUs = this.randomElectionTimeoutUs();
    // In the same epoch (from Prospective) the vote is kept, "so that it will not vote again in the same epoch".
    const votedId = epoch === s.epoch ? s.votedId : undefined;
    this.durableTransitionTo(new UnattachedState(epoch, leaderId, votedId, s.highWatermark, Deadline.after(now, timeoutUs)));
  }

  /** QuorumState.unattachedAddVotedState: grant this epoch's one vote; the election timer restarts. */
  unattachedAddVotedState(epoch: number, candidateId: number): void {
    const s = this.current;
    invariant(this.isVoter, 'an observer cannot vote');
    invariant(s instanceof UnattachedState && s.epoch === epoch && s.votedId === undefined, `cannot vote for ${candidateId} in epoch ${epoch} from ${s.role} (voted ${String(s.votedId)})`);
    this.durableTransitionTo(new UnattachedState(epoch, undefined, candidateId, s.highWatermark, Deadline.after(this.nowUs(), this.randomElectionTimeoutUs())));
  }

  /** QuorumState.prospectiveAddVotedState: the same, for a Prospective; its PreVote election starts over. */
  prospectiveAddVotedState(epoch: number, candidateId: number): void {
    const s = this.current;
    invariant(s instanceof ProspectiveState && s.epoch === epoch && s.votedId === undefined, `cannot vote for ${candidateId} in epoch ${epoch} from ${s.role}`);
    this.durableTransitionTo(
      new ProspectiveState(epoch, this.config.localId, s.leaderId, candidateId, this.config.voters, s.highWatermark, Deadline.after(this.nowUs(), this.randomElectionTimeoutUs())),
    );
  }

  /** QuorumState.transitionToFollower: never to follow itself, never backwards, never from Leader in its own epoch. */
  transitionToFollower(epoch: number, leaderId: number): void {
    const s = this.current;
    invariant(leaderId !== this.config.localId, `cannot follow itself in epoch ${epoch}`);
    invariant(epoch >= s.epoch, `cannot follow in epoch ${epoch} from epoch ${s.epoch}`);
    if (epoch === s.epoch) {
      invariant(s.role !== 'leader', `a leader cannot become a follower in its own epoch ${epoch}`);
      invariant(s.role !== 'follower', `already following ${String(s.leaderId)} in epoch ${epoch}`);
      invariant(s.leaderId === undefined || s.leaderId === leaderId, `two leaders in epoch ${epoch}: ${String(s.leaderId)} and ${leaderId}`);
    }
    const votedId = epoch === s.epoch ? s.votedId : undefined;
    this.durableTransitionTo(new FollowerState(epoch, leaderId, votedId, s.highWatermark, this.fetchTimeoutUs(), this.nowUs()));
  }

  /** QuorumState.transitionToProspective: voters only, not from Leader or Prospective; not durable. */
  transitionToProspective(): void {
    const s = this.current;
    invariant(this.isVoter, 'an observer cannot run for election');
    invariant(s.role !== 'leader' && s.role !== 'prospective', `cannot go Prospective from ${s.role}`);
    this.memoryTransitionTo(
      new ProspectiveState(s.epoch, this.config.localId, s.leaderId, s.votedId, this.config.voters, s.highWatermark, Deadline.after(this.nowUs(), this.randomElectionTimeoutUs())),
    );
  }

  /**
   * QuorumState.transitionToCandidate: epoch + 1 and a vote for itself, durable. In 4.x only from
   * Prospective; with pre-vote off (≤3.9) from any non-leader voter state.
   */
  transitionToCandidate(preVote: boolean): void {
    const s = this.current;
    invariant(this.isVoter, 'an observer cannot run for election');
    invariant(preVote ? s.role === 'prospective' : s.role !== 'leader', `cannot become Candidate from ${s.role}`);
    const retries = s instanceof CandidateState ? s.retries + 1 : 1;
    this.durableTransitionTo(
      new CandidateState(s.epoch + 1, this.config.localId, this.config.voters, s.highWatermark, Deadline.after(this.nowUs(), this.randomElectionTimeoutUs()), retries),
    );
  }

  /**
   * QuorumState.transitionToLeader: only a Candidate with a majority. The new leader does not keep
   * the high watermark it had ("protect the monotonicity of the global high watermark").
   */
  transitionToLeader(epochStartOffset: number): LeaderState {
    const s = this.current;
    invariant(s instanceof CandidateState && s.epochElection.isVoteGranted(), `cannot become Leader from ${s.role} without a majority`);
    const leader = new LeaderState(s.epoch, this.config.localId, epochStartOffset, this.config.voters, s.epochElection.grantingVoters(), this.fetchTimeoutUs(), this.nowUs());
    this.durableTransitionTo(leader);
    return leader;
  }

  /** QuorumState.transitionToResigned: only from Leader; a soft state, nothing written. */
  transitionToResigned(preferredSuccessors: readonly number[]): void {
    const s = this.current;
    invariant(s.role === 'leader', `cannot resign from ${s.role}`);
    this.memoryTransitionTo(new ResignedState(s.epoch, this.config.localId, this.config.voters, Deadline.after(this.nowUs(), this.randomElectionTimeoutUs()), preferredSuccessors));
  }

  private fetchTimeoutUs(): number {
    return this.config.fetchTimeoutMs * 1000;
  }

  /** QuorumState.durableTransitionTo: the election state is written first. */
  private durableTransitionTo(state: EpochState): void {
    this.store.writeElectionState(state.election());
    this.memoryTransitionTo(state);
  }

  private memoryTransitionTo(state: EpochState): void {
    if (this.current !== undefined) invariant(state.epoch >= this.current.epoch, `epoch went back from ${this.current.epoch} to ${state.epoch}`);
    this.current = state;
  }
}

function idOrUndefined(id: number): number | undefined {
  return id >= 0 ? id : undefined;
}
