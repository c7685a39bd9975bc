/**
 * kafkaesque: the library. `import { … } from 'kafkaesque'`.
 *
 * Today it exports the deterministic engine and the virtual world (network, disks with a page
 * cache, machines and processes), the scenario loader and `simulate`, and Kafka's partitioning
 * (`murmur2`, `partitionForKey`). `assign` (the consumer assignors); the fast-check arbitraries arrive with their issue.
 */
export {
  Simulator,
  EventQueue,
  Random,
  TraceHash,
  MemoryTraceSink,
  SimulationError,
  InvariantError,
  invariant,
  msToUs,
  sToUs,
  usToMs,
  formatTimeUs,
  US_PER_MS,
  US_PER_S,
  MAX_TIME_US,
} from './engine/index.js';
export type { EventTarget, EventId, RunLimit, RunResult as EngineRunResult, StopReason, SimulatorOptions, TraceSink, TimeUs, DurationUs, EventHandle } from './engine/index.js';

export { World, type WorldOptions, type AddMachineOptions, type RecordedEntry } from './world/world.js';
export { Machine, type ProcessState, type ClockSkew, type HistorySink } from './world/machine.js';
export { Network, type LinkConfig, type NodePlacement, type NetworkStats } from './world/network.js';
export { Disk, DEFAULT_DISK_CONFIG, type DiskConfig, type Chunk, type DiskCompletion, type DiskHandle, type DiskReadResult, type DiskStats } from './world/disk.js';
export { LatencyModel, type LatencySpec } from './world/latency.js';
export type { Node, NodeContext, NodeFactory, NodeId, Message, TimerId, HistoryEntry } from './world/node.js';

export { ScriptedNemesis, type FaultStep, type FaultKind, type FaultInterval } from './faults/scripted-nemesis.js';
export type { Violation } from './check/violation.js';

export { loadScenario, validateScenario, type Scenario } from './scenario/load.js';
export { ScenarioError } from './scenario/scenario-error.js';
export { simulate, type RunResult, type RunStats, type RunDetail, type SimulateOptions } from './scenario/simulate.js';
export { parseDuration, formatDuration } from './scenario/duration.js';

export { murmur2, partitionForKey, toPositive } from './kafka/client/murmur2.js';
export { BuiltInPartitioner, type PartitionInfo, type PartitionerCluster } from './kafka/client/built-in-partitioner.js';
export { ProducerPartitioner, type CustomPartitioner } from './kafka/client/partitioner.js';
export * from './kafka/client/producer/index.js';
export { KafkaConsumer, COMMIT_MODES, DEFAULT_CONSUMER_CONFIG, ASSIGNOR_CLASS_NAMES, parseConsumerConfig, rebalanceProtocol, type KafkaConsumerOptions, type ConsumerAppOptions, type CommitMode, type ConsumerConfig, type ConsumerConfigInput, type ConsumerConfigKey, type AutoOffsetReset, type RebalanceProtocol, type ConsumerRebalanceListener, type ConsumerRecord } from './kafka/client/consumer/index.js';

export { arbitraries, type ClusterConfig, type ClusterConfigOptions, type FaultScheduleArbitraryOptions, type ProducerConfigOptions } from './faults/arbitraries.js';
export {
  faultScheduleArbitrary,
  drawFaultSchedule,
  toScenarioFaults,
  faultsYaml,
  NEMESIS_KINDS,
  DEFAULT_NEMESIS_KINDS,
  type FaultSpec,
  type ScenarioFault,
  type FaultTarget,
  type GroupMember,
  type NemesisKind,
  type FaultScheduleOptions,
} from './faults/random-nemesis.js';
export { shrinkSchedule, type ShrinkResult, type ShrinkOptions } from './faults/shrink.js';
export { assign, AssignorInputError, ASSIGNMENT_STRATEGIES, type AssignmentStrategy, type AssignorMember, type GroupAssignment, type PartitionsPerTopic, type TopicPartition } from './kafka/client/consumer/assignors/index.js';
