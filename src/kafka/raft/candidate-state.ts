import { Deadline, EpochElection, type ElectionState, type EpochState } from './epoch-state.js';

/**
 * Candidate (CandidateState.java): the epoch is bumped and the node has voted for itself, both
 * persisted before any Vote request leaves. A majority of grants makes it Leader. In 4.x an
 * expired election timer or a lost election sends it back to Prospective in the same epoch; with
 * pre-vote off (the ≤3.9 flow) it backs off `binaryExponentialElectionBackoffMs(retries)` and runs
 * again in the next epoch, which is what lets a returning node disrupt a healthy quorum.
 */
export class CandidateState implements EpochState {
  readonly role = 'candidate';
  readonly leaderId = undefined;
  readonly epochElection: EpochElection;
  /** ≤3.9: set once the election is lost; the next candidacy starts when it expires. */
  private backoff: Deadline | undefined;

  constructor(
    readonly epoch: number,
    readonly localId: number,
    voters: readonly number[],
    readonly highWatermark: number | undefined,
    readonly electionTimer: Deadline,
    /** How many candidacies in a row (≤3.9 backoff), 1 for the first. */
    readonly retries: number,
  ) {
    this.epochElection = new EpochElection(voters, localId);
  }

  get votedId(): number {
    return this.localId;
  }

  election(): ElectionState {
    return { epoch: this.epoch, leaderId: -1, votedId: this.localId };
  }

  /** A candidate has voted for itself; it still answers PreVotes on the log alone. */
  canGrantVote(_candidateId: number, isLogUpToDate: boolean, preVote: boolean): boolean {
    return preVote && isLogUpToDate;
  }

  hasElectionTimeoutExpired(nowUs: number): boolean {
    return this.electionTimer.isExpired(nowUs);
  }

  remainingElectionTimeUs(nowUs: number): number {
    return this.electionTimer.remainingUs(nowUs);
  }

  isBackingOff(): boolean {
    return this.backoff !== undefined;
  }

  startBackingOff(nowUs: number, backoffUs: number): void {
    this.backoff = Deadline.after(nowUs, backoffUs);
  }

  isBackoffComplete(nowUs: number): boolean {
    return this.backoff !== undefined && this.backoff.isExpired(nowUs);
  }

  nextDeadlineUs(): number {
    return this.backoff !== undefined ? this.backoff.atUs : this.electionTimer.atUs;
  }
}
