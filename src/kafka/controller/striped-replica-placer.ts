import type { Random } from '../../engine/random.js';

/** A broker the placer may use (ClusterControlManager.usableBrokers). */
export interface UsableBroker {
  readonly id: number;
  readonly rack: string | null;
  readonly fenced: boolean;
}

/** BrokerList: brokers of one rack, handed out once per epoch, rotating by one each epoch. */
class BrokerList {
  brokers: number[] = [];
  private index = 0;
  private offset = 0;
  private epoch = 0;

  initialize(rng: Random): void {
    if (this.brokers.length === 0) return;
    this.brokers.sort((a, b) => a - b);
    this.offset = rng.int(0, this.brokers.length - 1);
  }

  next(epoch: number): number {
    if (this.brokers.length === 0) return -1;
    if (this.epoch !== epoch) {
      this.epoch = epoch;
      this.index = 0;
      this.offset = (this.offset + 1) % this.brokers.length;
    }
    if (this.index >= this.brokers.length) return -1;
    return this.brokers[(this.index++ + this.offset) % this.brokers.length];
  }

  shuffle(rng: Random): void {
    this.brokers = rng.shuffled(this.brokers);
  }
}

class Rack {
  readonly fenced = new BrokerList();
  readonly unfenced = new BrokerList();
  next(epoch: number): number {
    const r = this.unfenced.next(epoch);
    return r >= 0 ? r : this.fenced.next(epoch);
  }
}

/**
 * StripedReplicaPlacer (metadata/.../placement/StripedReplicaPlacer.java; KRAFT.md §11): spreads
 * each partition's replicas across racks, leaders on unfenced brokers, rotating so leadership
 * and load stripe evenly. Kafka seeds it with java.util.Random, whose draws depend on HashMap
 * order; we draw from a named stream, so placements are ours, deterministically.
 */
export class StripedReplicaPlacer {
  private readonly racks = new Map<string, Rack>();
  private rackNames: string[];
  private offset: number;
  private epoch = 0;
  private readonly numUnfenced: number;
  private readonly numTotal: number;

  constructor(
    private readonly rng: Random,
    brokers: readonly UsableBroker[],
  ) {
    for (const b of brokers) {
      const name = b.rack ?? '';
      let rack = this.racks.get(name);
      if (rack === undefined) this.racks.set(name, (rack = new Rack()));
      (b.fenced ? rack.fenced : rack.unfenced).brokers.push(b.id);
    }
    this.rackNames = [...this.racks.keys()].sort();
    for (const name of this.rackNames) {
      const rack = this.racks.get(name) as Rack;
      rack.fenced.initialize(rng);
      rack.unfenced.initialize(rng);
    }
    this.offset = this.rackNames.length === 0 ? 0 : rng.int(0, this.rackNames.length - 1);
    this.numUnfenced = brokers.filter((b) => !b.fenced).length;
    this.numTotal = brokers.length;
  }

  /** The replicas of the next partition, leader first. Throws when the factor cannot be met. */
  place(replicationFactor: number): number[] {
    if (replicationFactor <= 0) throw new Error('Invalid replication factor: it must be positive');
    if (replicationFactor > this.numTotal) {
      throw new Error(`The target replication factor of ${replicationFactor} cannot be reached because only ${this.numTotal} broker(s) are registered`);
    }
    if (this.numUnfenced === 0) throw new Error('All brokers are currently fenced');
    if (this.epoch === this.numUnfenced && this.numUnfenced > 1) {
      this.rackNames = this.rng.shuffled(this.rackNames);
      for (const rack of this.racks.values()) {
        // Rack.shuffle: fenced first, then unfenced, as Kafka draws them.
        rack.fenced.shuffle(this.rng);
        rack.unfenced.shuffle(this.rng);
      }
      this.epoch = 0;
    }
    if (this.offset === this.rackNames.length) this.offset = 0;
    const out: number[] = [];
    const R = this.rackNames.length;
    let first = this.offset;
    for (;;) {
      const r = (this.racks.get(this.rackNames[first]) as Rack).unfenced.next(this.epoch);
      if (r >= 0) {
        out.push(r);
        break;
      }
      first = (first + 1) % R;
    }
    let idx = this.offset;
    for (let i = 1; i < replicationFactor; i++) {
      let res: number;
      do {
        if (idx === first) {
          first = -1;
          res = -1;
        } else res = (this.racks.get(this.rackNames[idx]) as Rack).next(this.epoch);
        idx = (idx + 1) % R;
      } while (res < 0);
      out.push(res);
    }
    this.epoch++;
    this.offset++;
    return out;
  }
}
