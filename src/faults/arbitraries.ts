import fc from 'fast-check';
import { faultScheduleArbitrary, toScenarioFaults, type NemesisKind, type ScenarioFault } from './random-nemesis.js';

/**
 * fast-check arbitraries for users' own property tests (DESIGN.md, "Library"). Each produces a
 * piece of a scenario as a file writes it, so a drawn value goes straight into
 * `loadScenario({ ..., cluster, faults })`, and a counterexample prints as scenario YAML.
 *
 * ```ts
 * import { test } from '@fast-check/vitest';
 * import { arbitraries, loadScenario, simulate } from 'kafkaesque';
 * test.prop([arbitraries.clusterConfig(), arbitraries.faultSchedule({ brokers: 3, partitions: ['orders-0'], window: { startMs: 1000, stopMs: 10_000 } })])(
 *   'acks=all loses nothing', (cluster, faults) => { ... });
 * ```
 */

export interface FaultScheduleArbitraryOptions {
  /** Broker ids are 1..brokers. */
  brokers: number;
  /** Topic-partitions (`orders-0`) that faults may target through their leader or a follower. */
  partitions?: readonly string[];
  /** Whether the scenario has producers (partition groups may then keep them with a leader). */
  producers?: boolean;
  /** Default: crash, restart, partition, pause. Each draw turns on a random subset (swarm testing). */
  kinds?: readonly NemesisKind[];
  meanIntervalMs?: number;
  maxFaults?: number;
  maxDurationMs?: number;
  /** Where faults fall, in milliseconds from the start; default 1 s to 30 s. */
  window?: { startMs: number; stopMs: number };
}

/** A scenario `cluster:` section. */
export interface ClusterConfig {
  brokers: number;
  controllers: number;
  racks?: string[];
  config: {
    'min.insync.replicas': number;
    'unclean.leader.election.enable': boolean;
    'replica.lag.time.max.ms'?: number;
    'log.flush.interval.messages'?: number;
    'broker.session.timeout.ms'?: number;
  };
}

export interface ClusterConfigOptions {
  /** Brokers, inclusive bounds (default 3 to 5). */
  minBrokers?: number;
  maxBrokers?: number;
  /** Controllers, inclusive bounds (default 1 to 3). */
  minControllers?: number;
  maxControllers?: number;
  /**
   * Only configurations Kafka documents as durable for acks=all with replication factor ≥ 3:
   * min.insync.replicas ≥ 2 and unclean leader election off (default true). False also draws
   * min.insync.replicas=1 and unclean election on.
   */
  safe?: boolean;
  /** Also vary timing configs (lag time, session timeout, fsync per message); default true. */
  timing?: boolean;
}

/** A producer's `config:`: acks, idempotence, and the retry and batching knobs that matter under faults. */
export interface ProducerConfigOptions {
  /** Only acks=all (default false: acks 0, 1 and all). */
  safe?: boolean;
}

export const arbitraries = {
  /** A random fault schedule: scenario `faults:` entries (`{ at: '3.2s', crash: 'leader(orders-0)', for: '9s' }`), in time order. */
  faultSchedule(options: FaultScheduleArbitraryOptions): fc.Arbitrary<ScenarioFault[]> {
    return faultScheduleArbitrary({ ...options, window: options.window ?? { startMs: 1_000, stopMs: 30_000 } }).map(toScenarioFaults);
  },

  /** A random `cluster:` section. */
  clusterConfig(options: ClusterConfigOptions = {}): fc.Arbitrary<ClusterConfig> {
    const minBrokers = options.minBrokers ?? 3;
    const maxBrokers = Math.max(minBrokers, options.maxBrokers ?? 5);
    const minControllers = options.minControllers ?? 1;
    const maxControllers = Math.max(minControllers, options.maxControllers ?? 3);
    const safe = options.safe ?? true;
    const timing = options.timing ?? true;
    return fc
      .record({
        brokers: fc.integer({ min: minBrokers, max: maxBrokers }),
        controllers: fc.integer({ min: minControllers, max: maxControllers }),
        racks: fc.option(fc.constantFrom(3, 2, 1).map((n) => ['a', 'b', 'c'].slice(0, n)), { nil: undefined }),
        minIsr: safe ? fc.constant(2) : fc.constantFrom(2, 1),
        unclean: safe ? fc.constant(false) : fc.boolean(),
        lag: timing ? fc.option(fc.constantFrom(2_000, 10_000, 30_000), { nil: undefined }) : fc.constant(undefined),
        session: timing ? fc.option(fc.constantFrom(3_000, 6_000, 9_000), { nil: undefined }) : fc.constant(undefined),
        flush: timing ? fc.option(fc.constant(1), { nil: undefined }) : fc.constant(undefined),
      })
      .map(({ brokers, controllers, racks, minIsr, unclean, lag, session, flush }) => {
        const config: ClusterConfig['config'] = { 'min.insync.replicas': Math.min(minIsr, brokers), 'unclean.leader.election.enable': unclean };
        if (lag !== undefined) config['replica.lag.time.max.ms'] = lag;
        if (session !== undefined) config['broker.session.timeout.ms'] = session;
        if (flush !== undefined) config['log.flush.interval.messages'] = flush;
        return { brokers, controllers, ...(racks !== undefined ? { racks } : {}), config };
      });
  },

  /** A random producer `config:` that Kafka accepts (idempotence only with acks=all). */
  producerConfig(options: ProducerConfigOptions = {}): fc.Arbitrary<Record<string, string | number | boolean>> {
    return fc
      .record({
        acks: options.safe ? fc.constant('all') : fc.constantFrom('all', '1', '0'),
        idempotence: fc.boolean(),
        inFlight: fc.constantFrom(5, 1),
        linger: fc.constantFrom(5, 0, 20),
      })
      .map(({ acks, idempotence, inFlight, linger }) => ({
        acks,
        'enable.idempotence': acks === 'all' && idempotence,
        'max.in.flight.requests.per.connection': inFlight,
        'linger.ms': linger,
      }));
  },
};
