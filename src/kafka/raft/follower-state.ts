import { invariant } from '../../engine/errors.js';
import { Deadline, orSentinel, type ElectionState, type EpochState } from './epoch-state.js';

/**
 * Follower (FollowerState.java): fetches from the epoch's leader. The fetch timer is fixed, not
 * randomised, and reset by every successful Fetch response; when it expires a voter goes to
 * Prospective and an observer starts asking the bootstrap voters instead. The high watermark
 * only moves forward ("Non-monotonic update of high watermark" is an error in Kafka).
 */
export class FollowerState implements EpochState {
  readonly role = 'follower';
  private hw: number | undefined;
  private fetchTimer: Deadline;
  private fetchedFromLeader = false;

  constructor(
    readonly epoch: number,
    readonly leaderId: number,
    readonly votedId: number | undefined,
    highWatermark: number | undefined,
    private readonly fetchTimeoutUs: number,
    nowUs: number,
  ) {
    this.hw = highWatermark;
    this.fetchTimer = Deadline.after(nowUs, fetchTimeoutUs);
  }

  get highWatermark(): number | undefined {
    return this.hw;
  }

  /** 4.x: true after the first successful fetch in this epoch; from then on PreVotes are refused. */
  get hasFetchedFromLeader(): boolean {
    return this.fetchedFromLeader;
  }

  election(): ElectionState {
    return { epoch: this.epoch, leaderId: this.leaderId, votedId: orSentinel(this.votedId) };
  }

  /** A follower never grants a standard vote; a PreVote only until it has heard from its leader. */
  canGrantVote(_candidateId: number, isLogUpToDate: boolean, preVote: boolean): boolean {
    return preVote && !this.fetchedFromLeader && isLogUpToDate;
  }

  hasFetchTimeoutExpired(nowUs: number): boolean {
    return this.fetchTimer.isExpired(nowUs);
  }

  resetFetchTimeoutForSuccessfulFetch(nowUs: number): void {
    this.fetchTimer = Deadline.after(nowUs, this.fetchTimeoutUs);
    this.fetchedFromLeader = true;
  }

  /** After an EndQuorumEpoch from its leader: run sooner, by rank among the preferred successors. */
  overrideFetchTimeout(nowUs: number, timeoutUs: number): void {
    this.fetchTimer = Deadline.after(nowUs, timeoutUs);
  }

  /** FollowerState.updateHighWatermark: returns whether it moved. */
  updateHighWatermark(newHighWatermark: number): boolean {
    invariant(newHighWatermark >= 0, `negative high watermark ${newHighWatermark}`);
    if (this.hw !== undefined) {
      invariant(newHighWatermark >= this.hw, `Non-monotonic update of high watermark from ${this.hw} to ${newHighWatermark}`);
      if (newHighWatermark === this.hw) return false;
    }
    this.hw = newHighWatermark;
    return true;
  }

  nextDeadlineUs(): number {
    return this.fetchTimer.atUs;
  }
}
