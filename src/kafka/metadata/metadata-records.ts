/**
 * The metadata log's records, as KRaft names them
 * (metadata/src/main/resources/common/metadata/*.json), cut down to the fields the model uses.
 * The controller appends them; every broker's view of the cluster is a fold over them.
 */
export interface RegisterBrokerRecord {
  readonly type: 'RegisterBrokerRecord';
  readonly brokerId: number;
  readonly incarnationId: number;
  /** The broker epoch: the offset of this record. */
  readonly brokerEpoch: number;
  readonly rack: string | null;
  readonly fenced: boolean;
}

/** Fencing, unfencing and controlled shutdown (BrokerRegistrationChangeRecord). */
export interface BrokerRegistrationChangeRecord {
  readonly type: 'BrokerRegistrationChangeRecord';
  readonly brokerId: number;
  readonly brokerEpoch: number;
  readonly fenced?: boolean;
  readonly inControlledShutdown?: boolean;
}

export interface TopicRecord {
  readonly type: 'TopicRecord';
  readonly name: string;
}

export interface ConfigRecord {
  readonly type: 'ConfigRecord';
  readonly topic: string;
  readonly name: string;
  readonly value: string | number | boolean;
}

export interface PartitionRecord {
  readonly type: 'PartitionRecord';
  readonly topic: string;
  readonly partition: number;
  readonly replicas: readonly number[];
  readonly isr: readonly number[];
  readonly leader: number;
  readonly leaderEpoch: number;
  readonly partitionEpoch: number;
}

/** A change to a partition. Absent fields are unchanged; `leader` present bumps the leader epoch. */
export interface PartitionChangeRecord {
  readonly type: 'PartitionChangeRecord';
  readonly topic: string;
  readonly partition: number;
  readonly leader?: number;
  readonly isr?: readonly number[];
  readonly elr?: readonly number[];
  readonly lastKnownElr?: readonly number[];
  /** Set by an unclean election: the new leader must recover (LeaderRecoveryState.RECOVERING). */
  readonly leaderRecovering?: boolean;
}

export type MetadataRecord =
  | RegisterBrokerRecord
  | BrokerRegistrationChangeRecord
  | TopicRecord
  | ConfigRecord
  | PartitionRecord
  | PartitionChangeRecord;
