import { Broker } from '../../../src/kafka/broker/broker.js';
import type { BrokerConfig } from '../../../src/kafka/broker/broker-config.js';
import { KafkaConsumer, type KafkaConsumerOptions } from '../../../src/kafka/client/consumer/kafka-consumer.js';
import { KafkaProducer, type KafkaProducerOptions } from '../../../src/kafka/client/producer/kafka-producer.js';
import type { SendHandle } from '../../../src/kafka/client/producer/send-handle.js';
import { Controller, type ControllerConfig, type TopicSpec } from '../../../src/kafka/controller/controller.js';
import { offsetsTopicSpec } from '../../../src/kafka/group/coordinator-partition.js';
import type { ProtocolSwitches } from '../../../src/kafka/protocol/switches.js';
import type { LatencySpec } from '../../../src/world/latency.js';
import type { HistoryEntry } from '../../../src/world/node.js';
import { World } from '../../../src/world/world.js';

export const CONTROLLER_ID = 1000;
export const FIRST_PRODUCER_ID = 2000;
export const FIRST_CONSUMER_ID = 3000;

export interface ConsumerClusterOptions {
  seed?: number;
  brokers?: number;
  topics?: TopicSpec[];
  brokerConfig?: Partial<BrokerConfig>;
  controllerConfig?: Partial<ControllerConfig>;
  switches?: Partial<ProtocolSwitches>;
  latency?: LatencySpec;
}

export type ConsumerSetup = Omit<KafkaConsumerOptions, 'bootstrap'> & { bootstrap?: readonly number[]; name?: string };
export type ProducerSetup = Omit<KafkaProducerOptions, 'bootstrap'> & { bootstrap?: readonly number[] };

/**
 * Brokers 1..N (with their group coordinators and __consumer_offsets), a controller, and real
 * KafkaProducers (machines 2000, 2001, …) and KafkaConsumers (3000, 3001, …) added on demand.
 * Mirrors producer-cluster.ts. By default group.initial.rebalance.delay.ms is 0 and
 * __consumer_offsets has 3 partitions, to keep tests short.
 */
export class ConsumerCluster {
  readonly world: World;
  readonly brokerIds: number[];
  readonly topics: TopicSpec[];
  readonly producerIds: number[] = [];
  readonly consumerIds: number[] = [];
  readonly brokerConfig: Partial<BrokerConfig>;

  constructor(o: ConsumerClusterOptions = {}) {
    this.world = new World({ seed: o.seed ?? 1, network: { latency: o.latency ?? { distribution: 'exponential', meanMs: 0.5, minMs: 0.1 } } });
    this.brokerIds = Array.from({ length: o.brokers ?? 3 }, (_, i) => i + 1);
    this.brokerConfig = { 'group.initial.rebalance.delay.ms': 0, 'offsets.topic.num.partitions': 3, 'offsets.topic.replication.factor': Math.min(3, this.brokerIds.length), ...o.brokerConfig };
    this.topics = o.topics ?? [{ name: 'orders', partitions: 6, replicationFactor: 3 }];
    const offsets = offsetsTopicSpec({
      'offsets.topic.num.partitions': this.brokerConfig['offsets.topic.num.partitions'] as number,
      'offsets.topic.replication.factor': this.brokerConfig['offsets.topic.replication.factor'] as number,
    });
    const allTopics: TopicSpec[] = [...this.topics, offsets];
    const switches = o.switches ?? {};
    this.world.addMachine({
      id: CONTROLLER_ID,
      name: 'controller',
      factory: (ctx) => new Controller(ctx, { controllerId: CONTROLLER_ID, voters: [CONTROLLER_ID], topics: allTopics, config: o.controllerConfig, switches }),
    });
    for (const id of this.brokerIds) {
      this.world.addMachine({
        id,
        name: `broker-${id}`,
        rack: String.fromCharCode(96 + id),
        factory: (ctx) => new Broker(ctx, { brokerId: id, controllerIds: [CONTROLLER_ID], config: this.brokerConfig, switches }),
      });
    }
    this.world.startAll();
  }

  addProducer(setup: ProducerSetup = {}): number {
    const id = FIRST_PRODUCER_ID + this.producerIds.length;
    this.producerIds.push(id);
    const options: KafkaProducerOptions = { ...setup, bootstrap: setup.bootstrap ?? this.brokerIds, topics: setup.topics ?? this.topics.map((t) => t.name) };
    this.world.addMachine({ id, name: `producer-${this.producerIds.length}`, factory: (ctx) => new KafkaProducer(ctx, options) }).start();
    return id;
  }

  /** Adds and starts a consumer process; returns its node id. Its machine restarts with the same options. */
  addConsumer(setup: ConsumerSetup = {}): number {
    const id = FIRST_CONSUMER_ID + this.consumerIds.length;
    this.consumerIds.push(id);
    const options: KafkaConsumerOptions = { ...setup, bootstrap: setup.bootstrap ?? this.brokerIds };
    this.world.addMachine({ id, name: setup.name ?? `consumer-${this.consumerIds.length}`, factory: (ctx) => new KafkaConsumer(ctx, options) }).start();
    return id;
  }

  producer(id = FIRST_PRODUCER_ID): KafkaProducer {
    return this.world.machine(id).process as KafkaProducer;
  }

  consumer(id = FIRST_CONSUMER_ID): KafkaConsumer {
    return this.world.machine(id).process as KafkaConsumer;
  }

  /** Live consumers (process running). */
  liveConsumers(): KafkaConsumer[] {
    return this.consumerIds.map((id) => this.world.machine(id).process as KafkaConsumer | undefined).filter((c): c is KafkaConsumer => c !== undefined);
  }

  broker(id: number): Broker {
    return this.world.machine(id).process as Broker;
  }

  controller(): Controller {
    return this.world.machine(CONTROLLER_ID).process as Controller;
  }

  leader(topic = this.topics[0].name, p = 0): number {
    return this.controller().image.partitions.get(`${topic}-${p}`)?.leader ?? -1;
  }

  runForMs(ms: number): void {
    this.world.runUntil(this.world.nowUs + Math.round(ms * 1000));
  }

  runUntil(done: () => boolean, maxMs = 60_000): boolean {
    this.world.runUntil({ timeUs: this.world.nowUs + maxMs * 1000, until: done });
    return done();
  }

  awaitLeaders(maxMs = 10_000): void {
    const topics = [...this.topics, { name: '__consumer_offsets', partitions: this.brokerConfig['offsets.topic.num.partitions'] as number }];
    const ok = this.runUntil(() => topics.every((t) => Array.from({ length: t.partitions }, (_, p) => this.leader(t.name, p)).every((l) => l > 0)), maxMs);
    if (!ok) throw new Error('no leader for every partition within the time allowed');
  }

  /** Sends `n` records with values `${prefix}${i}` to explicit partitions round-robin (or one partition), and waits for their acks. */
  produce(n: number, o: { prefix?: string; topic?: string; partition?: number; producer?: number } = {}): string[] {
    const topic = o.topic ?? this.topics[0].name;
    const partitions = this.topics.find((t) => t.name === topic)?.partitions ?? 1;
    const producer = this.producer(o.producer ?? this.producerIds[0] ?? this.addProducer());
    const values: string[] = [];
    const handles: SendHandle[] = [];
    for (let i = 0; i < n; i++) {
      const value = `${o.prefix ?? 'v'}${i}`;
      values.push(value);
      handles.push(producer.send({ topic, value, partition: o.partition ?? i % partitions }));
    }
    const ok = this.runUntil(() => handles.every((h) => h.isDone), 30_000);
    if (!ok || handles.some((h) => h.status !== 'ok')) throw new Error(`produce failed: ${handles.filter((h) => h.status !== 'ok').map((h) => h.error).join('; ')}`);
    return values;
  }

  /** History entries of one type (optionally of one node), in order. */
  entries(type: string, node?: number): (HistoryEntry & { node: number; timeUs: number })[] {
    return this.world.history.filter((h) => h.entry.type === type && (node === undefined || h.node === node)).map((h) => ({ ...h.entry, node: h.node, timeUs: h.timeUs }));
  }

  /** The group's committed offset for a partition, from the coordinator that owns it now. */
  committedOffset(group: string, topic: string, partition: number): number | undefined {
    for (const id of this.brokerIds) {
      const b = this.broker(id);
      if (b === undefined) continue;
      const o = b.groupCoordinator.committedOffset(group, topic, partition);
      if (o !== undefined && b.groupCoordinator.group(group) !== undefined) return o.committedOffset;
    }
    for (const id of this.brokerIds) {
      const o = this.broker(id)?.groupCoordinator.committedOffset(group, topic, partition);
      if (o !== undefined) return o.committedOffset;
    }
    return undefined;
  }
}
