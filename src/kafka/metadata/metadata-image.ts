import { invariant } from '../../engine/errors.js';
import type { BrokerRegistration, PartitionRegistration } from '../protocol/messages.js';
import { tpKey } from '../protocol/topic-partition.js';
import type { MetadataRecord } from './metadata-records.js';

/** A partition as the metadata log defines it (PartitionRegistration.java). */
export interface PartitionState extends PartitionRegistration {
  readonly lastKnownElr: readonly number[];
  readonly leaderRecovering: boolean;
}

export interface BrokerState extends BrokerRegistration {
  readonly incarnationId: number;
}

/**
 * The cluster as the metadata log says it is (MetadataImage): brokers, topics, their configs and
 * partitions. `apply` folds one committed record at its offset; the image remembers, for each
 * broker and partition, the offset of its last change, so a broker that has applied up to offset
 * N can be sent exactly what changed after N.
 */
export class MetadataImage {
  readonly brokers = new Map<number, BrokerState>();
  readonly topics = new Map<string, Record<string, string | number | boolean>>();
  readonly partitions = new Map<string, PartitionState>();
  private readonly brokerChangedAt = new Map<number, number>();
  private readonly partitionChangedAt = new Map<string, number>();
  private readonly topicChangedAt = new Map<string, number>();
  /** The offset of the last record applied, -1 for an empty log. */
  offset = -1;
  /** What `apply` touched since the last `takeChanges()`, when tracking (a broker applying deltas). */
  private changes: { brokers: Set<number>; partitions: Set<string>; topics: Set<string> } | undefined;

  /** From now on, remember what each `apply` touches, for `takeChanges`. */
  trackChanges(): void {
    this.changes ??= { brokers: new Set(), partitions: new Set(), topics: new Set() };
  }

  /**
   * The latest state of everything touched since the last call, in the order first touched
   * (MetadataDelta, as a broker's MetadataPublisher receives it), and forgets it.
   */
  takeChanges(): { brokers: BrokerState[]; partitions: PartitionState[]; topics: { topic: string; config: Record<string, string | number | boolean> }[] } {
    const c = this.changes;
    invariant(c !== undefined, 'takeChanges() without trackChanges()');
    const out = {
      brokers: [...c.brokers].map((id) => this.brokers.get(id) as BrokerState),
      partitions: [...c.partitions].map((key) => this.partitions.get(key) as PartitionState),
      topics: [...c.topics].map((topic) => ({ topic, config: this.topics.get(topic) ?? {} })),
    };
    c.brokers.clear();
    c.partitions.clear();
    c.topics.clear();
    return out;
  }

  apply(record: MetadataRecord, offset: number): void {
    invariant(offset > this.offset, `metadata record at ${offset} applied after ${this.offset}`);
    this.offset = offset;
    switch (record.type) {
      case 'RegisterBrokerRecord':
        this.brokers.set(record.brokerId, {
          brokerId: record.brokerId,
          brokerEpoch: record.brokerEpoch,
          incarnationId: record.incarnationId,
          fenced: record.fenced,
          inControlledShutdown: false,
          rack: record.rack,
        });
        this.brokerChangedAt.set(record.brokerId, offset);
        this.changes?.brokers.add(record.brokerId);
        return;
      case 'BrokerRegistrationChangeRecord': {
        const b = this.brokers.get(record.brokerId);
        if (b === undefined || b.brokerEpoch !== record.brokerEpoch) return;
        this.brokers.set(record.brokerId, {
          ...b,
          fenced: record.fenced ?? b.fenced,
          inControlledShutdown: record.inControlledShutdown ?? b.inControlledShutdown,
        });
        this.brokerChangedAt.set(record.brokerId, offset);
        this.changes?.brokers.add(record.brokerId);
        return;
      }
      case 'TopicRecord':
        if (!this.topics.has(record.name)) this.topics.set(record.name, {});
        this.topicChangedAt.set(record.name, offset);
        this.changes?.topics.add(record.name);
        return;
      case 'ConfigRecord':
        this.topics.set(record.topic, { ...this.topics.get(record.topic), [record.name]: record.value });
        this.topicChangedAt.set(record.topic, offset);
        this.changes?.topics.add(record.topic);
        return;
      case 'PartitionRecord': {
        const key = tpKey(record.topic, record.partition);
        const { type: _type, ...fields } = record;
        this.partitions.set(key, { ...fields, elr: [], lastKnownElr: [], leaderRecovering: false });
        this.partitionChangedAt.set(key, offset);
        this.changes?.partitions.add(key);
        return;
      }
      case 'PartitionChangeRecord': {
        const key = tpKey(record.topic, record.partition);
        const p = this.partitions.get(key);
        invariant(p !== undefined, `PartitionChangeRecord for unknown partition ${key}`);
        // PartitionRegistration.merge: a leader field bumps the leader epoch; every change bumps the partition epoch.
        this.partitions.set(key, {
          ...p,
          leader: record.leader ?? p.leader,
          leaderEpoch: record.leader !== undefined ? p.leaderEpoch + 1 : p.leaderEpoch,
          partitionEpoch: p.partitionEpoch + 1,
          isr: record.isr ?? p.isr,
          elr: record.elr ?? p.elr,
          lastKnownElr: record.lastKnownElr ?? p.lastKnownElr,
          // PartitionRegistration.merge: the recovery state changes only when a record sets it.
          leaderRecovering: record.leaderRecovering ?? p.leaderRecovering,
        });
        this.partitionChangedAt.set(key, offset);
        this.changes?.partitions.add(key);
        return;
      }
    }
  }

  /** Whether the broker may lead or join an ISR: registered, unfenced, not shutting down. */
  isActive(brokerId: number): boolean {
    const b = this.brokers.get(brokerId);
    return b !== undefined && !b.fenced && !b.inControlledShutdown;
  }

  /** What changed after `offset`: the latest state of every broker, topic and partition touched since. */
  changedSince(offset: number): { brokers: BrokerState[]; partitions: PartitionState[]; topics: { topic: string; config: Record<string, string | number | boolean> }[] } {
    const brokers = [...this.brokerChangedAt].filter(([, at]) => at > offset).map(([id]) => this.brokers.get(id) as BrokerState);
    const partitions = [...this.partitionChangedAt].filter(([, at]) => at > offset).map(([key]) => this.partitions.get(key) as PartitionState);
    const topics = [...this.topicChangedAt].filter(([, at]) => at > offset).map(([topic]) => ({ topic, config: this.topics.get(topic) ?? {} }));
    return { brokers, partitions, topics };
  }
}
