import { invariant } from '../../engine/errors.js';
import { Deadline, type ElectionState, type EpochState } from './epoch-state.js';

/** LeaderState.CHECK_QUORUM_TIMEOUT_FACTOR: resign after 1.5 × fetch timeout without a majority fetching. */
export const CHECK_QUORUM_TIMEOUT_FACTOR = 1.5;

/** What the leader knows of one replica (LeaderState.ReplicaState). */
export interface ReplicaState {
  readonly replicaId: number;
  /** The replica's log end offset as its last valid Fetch reported it (for the leader: its flushed LEO). */
  endOffset: number | undefined;
  lastFetchTimeUs: number | undefined;
}

/**
 * Leader (LeaderState.java): the replica states of every voter and observer, the high watermark,
 * and two timers: check-quorum (resign if a majority stops fetching) and the BeginQuorumEpoch
 * resend. Only voters count for the high watermark and for check-quorum; observers are tracked
 * for their fetch offsets and nothing else.
 */
export class LeaderState implements EpochState {
  readonly role = 'leader';
  private hw: number | undefined = undefined;
  private readonly voterStates = new Map<number, ReplicaState>();
  private readonly observerStates = new Map<number, ReplicaState>();
  /** Voters heard from since the check-quorum timer was last reset. */
  private readonly fetchedVoters = new Set<number>();
  private checkQuorumTimer: Deadline;
  private beginQuorumEpochTimer: Deadline;
  private readonly checkQuorumTimeoutUs: number;
  private readonly beginQuorumEpochTimeoutUs: number;

  constructor(
    readonly epoch: number,
    readonly localId: number,
    /** The LEO when this node became leader: the HW exists only once a majority is past it. */
    readonly epochStartOffset: number,
    readonly voters: readonly number[],
    readonly grantingVoters: readonly number[],
    fetchTimeoutUs: number,
    nowUs: number,
  ) {
    for (const v of voters) this.voterStates.set(v, { replicaId: v, endOffset: undefined, lastFetchTimeUs: undefined });
    this.checkQuorumTimeoutUs = Math.floor(fetchTimeoutUs * CHECK_QUORUM_TIMEOUT_FACTOR);
    this.beginQuorumEpochTimeoutUs = Math.floor(fetchTimeoutUs / 2);
    // A single-voter quorum is always its own majority: its check-quorum timer never expires.
    this.checkQuorumTimer = voters.length === 1 ? Deadline.never() : Deadline.after(nowUs, this.checkQuorumTimeoutUs);
    // 4.x: the timer starts expired, so the first round of BeginQuorumEpoch goes out at once.
    this.beginQuorumEpochTimer = Deadline.after(nowUs, 0);
  }

  get leaderId(): number {
    return this.localId;
  }

  get votedId(): number {
    return this.localId;
  }

  get highWatermark(): number | undefined {
    return this.hw;
  }

  election(): ElectionState {
    return { epoch: this.epoch, leaderId: this.localId, votedId: this.localId };
  }

  /** LeaderState.canGrantVote: a leader refuses every vote in its epoch. */
  canGrantVote(): boolean {
    return false;
  }

  isVoter(replicaId: number): boolean {
    return this.voterStates.has(replicaId);
  }

  /** The leader's own LEO, counted once it is fsync'd (updateLocalState). Returns whether the HW moved. */
  updateLocalState(flushedEndOffset: number): boolean {
    const local = this.voterStates.get(this.localId);
    invariant(local !== undefined, `leader ${this.localId} is not among the voters`);
    invariant(local.endOffset === undefined || flushedEndOffset >= local.endOffset, `leader's flushed LEO went back from ${local.endOffset} to ${flushedEndOffset}`);
    local.endOffset = flushedEndOffset;
    return this.maybeUpdateHighWatermark();
  }

  /**
   * LeaderState.updateReplicaState: a valid Fetch at `fetchOffset` means the replica holds (and,
   * for a voter, has fsync'd) everything below it. Returns whether the HW moved; observers never
   * move it.
   */
  updateReplicaState(replicaId: number, nowUs: number, fetchOffset: number): boolean {
    invariant(replicaId !== this.localId, 'the leader fetched from itself');
    let state = this.voterStates.get(replicaId) ?? this.observerStates.get(replicaId);
    if (state === undefined) {
      state = { replicaId, endOffset: undefined, lastFetchTimeUs: undefined };
      this.observerStates.set(replicaId, state);
    }
    state.endOffset = fetchOffset;
    state.lastFetchTimeUs = nowUs;
    return this.isVoter(replicaId) && this.maybeUpdateHighWatermark();
  }

  /**
   * LeaderState.maybeUpdateHighWatermark: the HW is the fetch offset that a majority of voters
   * (the leader included) have reached, and it only counts once it is strictly past the epoch's
   * start offset: a majority must hold the LeaderChange entry of this epoch, so entries of
   * earlier epochs are never committed by counting alone (Raft §5.4.2). It never goes back.
   */
  private maybeUpdateHighWatermark(): boolean {
    const sorted = [...this.voterStates.values()].sort(byDescendingEndOffset);
    const candidate = sorted[Math.floor(this.voterStates.size / 2)].endOffset;
    if (candidate === undefined || candidate <= this.epochStartOffset) return false;
    if (this.hw !== undefined && candidate <= this.hw) return false;
    this.hw = candidate;
    return true;
  }

  /** LeaderState.updateCheckQuorumForFollowingVoter: a majority fetching resets the timer. */
  updateCheckQuorumForFollowingVoter(replicaId: number, nowUs: number): void {
    if (!this.isVoter(replicaId) || replicaId === this.localId) return;
    this.fetchedVoters.add(replicaId);
    // The leader counts itself, so it needs majority - 1 other voters.
    const needed = Math.floor(this.voterStates.size / 2) + 1 - 1;
    if (this.fetchedVoters.size >= needed) {
      this.fetchedVoters.clear();
      this.checkQuorumTimer = Deadline.after(nowUs, this.checkQuorumTimeoutUs);
    }
  }

  hasCheckQuorumExpired(nowUs: number): boolean {
    return this.checkQuorumTimer.isExpired(nowUs);
  }

  /** 4.x needToSendBeginQuorumRequests: the resend timer (fetch timeout / 2) expired. */
  needToSendBeginQuorumRequests(nowUs: number): boolean {
    return this.beginQuorumEpochTimer.isExpired(nowUs);
  }

  /** Voters that have not fetched in the last fetchTimeout / 2: they may not know this leader. */
  votersNeedingBeginQuorumEpoch(nowUs: number): number[] {
    const out: number[] = [];
    for (const s of this.voterStates.values()) {
      if (s.replicaId === this.localId) continue;
      if (s.lastFetchTimeUs === undefined || nowUs - s.lastFetchTimeUs >= this.beginQuorumEpochTimeoutUs) out.push(s.replicaId);
    }
    return out;
  }

  resetBeginQuorumEpochTimer(nowUs: number): void {
    this.beginQuorumEpochTimer = Deadline.after(nowUs, this.beginQuorumEpochTimeoutUs);
  }

  /** The other voters, most up-to-date first: the preferred successors of EndQuorumEpoch. */
  nonLeaderVotersByDescendingFetchOffset(): number[] {
    return [...this.voterStates.values()]
      .filter((s) => s.replicaId !== this.localId)
      .sort(byDescendingEndOffset)
      .map((s) => s.replicaId);
  }

  replicaState(replicaId: number): Readonly<ReplicaState> | undefined {
    return this.voterStates.get(replicaId) ?? this.observerStates.get(replicaId);
  }

  nextDeadlineUs(): number {
    return Math.min(this.checkQuorumTimer.atUs, this.beginQuorumEpochTimer.atUs);
  }
}

/** ReplicaState.compareTo: end offset descending, unknown last, then by id. */
function byDescendingEndOffset(a: ReplicaState, b: ReplicaState): number {
  if (a.endOffset === undefined || b.endOffset === undefined) {
    if (a.endOffset !== b.endOffset) return a.endOffset === undefined ? 1 : -1;
  } else if (a.endOffset !== b.endOffset) return b.endOffset - a.endOffset;
  return a.replicaId - b.replicaId;
}
