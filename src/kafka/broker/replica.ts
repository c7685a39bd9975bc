/**
 * What a leader knows about one follower (core/src/main/scala/kafka/cluster/Replica.scala,
 * ReplicaState): its log end offset as of its last fetch, and when it was last caught up.
 * The leader learns a follower's LEO only from the fetch offset of its next Fetch, so the
 * leader's view lags the follower's log by one round trip.
 */
export class Replica {
  logStartOffset = -1;
  /** The follower's LEO: the offset of its latest Fetch, or -1 while unknown. */
  logEndOffset = -1;
  lastFetchLeaderLogEndOffset = -1;
  /**
   * Times start at -Infinity, "never": Kafka's 0 is 1970 on a real clock, but the simulated
   * clock starts at 0, where 0 would read as "just now".
   */
  lastFetchTimeMs = -Infinity;
  lastCaughtUpTimeMs = -Infinity;
  /** The broker epoch sent in the follower's last Fetch (KIP-903), undefined until one arrives. */
  brokerEpoch: number | undefined;

  constructor(readonly brokerId: number) {}

  /**
   * Replica.updateFetchStateOrThrow. Returns false, changing nothing, when the fetch comes from
   * an incarnation older than the one registered in the metadata (KIP-903): the caller answers
   * NOT_LEADER_OR_FOLLOWER.
   */
  updateFetchState(fetchOffset: number, startOffset: number, fetchTimeMs: number, leaderEndOffset: number, brokerEpoch: number, registeredEpoch: number | undefined): boolean {
    if (brokerEpoch !== -1 && registeredEpoch !== undefined && registeredEpoch > brokerEpoch) return false;
    // The follower was caught up at this fetch if it asked for the leader's end; or at its
    // previous fetch if it has now reached what the leader had then.
    if (fetchOffset >= leaderEndOffset) this.lastCaughtUpTimeMs = Math.max(this.lastCaughtUpTimeMs, fetchTimeMs);
    else if (fetchOffset >= this.lastFetchLeaderLogEndOffset) this.lastCaughtUpTimeMs = Math.max(this.lastCaughtUpTimeMs, this.lastFetchTimeMs);
    this.logStartOffset = startOffset;
    this.logEndOffset = fetchOffset;
    this.lastFetchLeaderLogEndOffset = Math.max(leaderEndOffset, this.lastFetchLeaderLogEndOffset);
    this.lastFetchTimeMs = fetchTimeMs;
    this.brokerEpoch = brokerEpoch;
    return true;
  }

  /** Replica.isCaughtUp: at the leader's end, or caught up within `maxLagMs`. */
  isCaughtUp(leaderEndOffset: number, nowMs: number, maxLagMs: number): boolean {
    return leaderEndOffset === this.logEndOffset || nowMs - this.lastCaughtUpTimeMs <= maxLagMs;
  }

  /** Replica.resetReplicaState, when this broker becomes leader in a new epoch. */
  reset(nowMs: number, leaderEpochStartOffset: number, wasAlreadyLeader: boolean, inIsr: boolean): void {
    this.lastCaughtUpTimeMs = inIsr ? nowMs : -Infinity;
    if (!wasAlreadyLeader) {
      this.logStartOffset = -1;
      this.logEndOffset = -1;
      this.lastFetchLeaderLogEndOffset = -1;
      this.lastFetchTimeMs = -Infinity;
      this.brokerEpoch = undefined;
    } else {
      this.lastFetchLeaderLogEndOffset = leaderEpochStartOffset;
      this.lastFetchTimeMs = inIsr ? nowMs : -Infinity;
    }
  }
}
