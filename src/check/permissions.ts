import type { Violation } from './violation.js';

/**
 * What a run's configuration allows to go wrong: the facts `permittedBy` reads. A finding the
 * configuration permits is the expected outcome of that configuration (acks=1 loses writes), not a
 * fault of the simulator or of Kafka; the report and the summary label it so.
 */
export interface ConfigFacts {
  /** Per producer (by its node name): the effective acks, and whether it is idempotent. */
  readonly producers: ReadonlyMap<string, { readonly acks: number; readonly idempotent: boolean }>;
  /** unclean.leader.election.enable on the cluster or on any topic. */
  readonly uncleanElection: boolean;
  /** A power-loss fault in the run while brokers do not fsync every message (Kafka's default). */
  readonly powerLossWithoutFsync: boolean;
  /** Protocol switches turned off (historical Kafka bugs brought back). */
  readonly switchesOff: readonly string[];
  /** offsets.topic.replication.factor = 1: one broker holds every committed offset. */
  readonly singleReplicaOffsets: boolean;
  /** Consumer groups whose members hand records to another thread while auto-commit runs. */
  readonly asyncProcessingGroups?: ReadonlySet<string>;
}

/** The producer that wrote a value: values are `<producer name>/<workload>:<sequence>`. */
function producerOfValue(value: unknown): string | undefined {
  if (typeof value !== 'string') return undefined;
  const slash = value.indexOf('/');
  return slash > 0 ? value.slice(0, slash) : undefined;
}

/** Reasons any data loss is allowed by the cluster's side of the configuration. */
function clusterLossReason(f: ConfigFacts): string | undefined {
  if (f.uncleanElection) return 'unclean.leader.election.enable=true';
  if (f.powerLossWithoutFsync) return 'no fsync (log.flush.interval.messages) and a power loss';
  if (f.switchesOff.length > 0) return `protocol switch off: ${f.switchesOff.join(', ')}`;
  return undefined;
}

/** The configuration that permits `v`, in words, or undefined when nothing does (a violation). */
export function permittedBy(v: Violation, f: ConfigFacts): string | undefined {
  const e = v.evidence ?? {};
  switch (v.check) {
    case 'lost-write':
    case 'inconsistent-offsets': {
      const names = v.check === 'lost-write' ? [e.producer as string | undefined] : ((e.values ?? []) as unknown[]).map(producerOfValue);
      for (const name of names) {
        const p = name === undefined ? undefined : f.producers.get(name);
        if (p !== undefined && p.acks !== -1) return `acks=${p.acks}`;
      }
      return clusterLossReason(f);
    }
    case 'duplicate':
    case 'nonmonotonic-send': {
      const name = v.check === 'duplicate' ? producerOfValue(e.value) : (e.producer as string | undefined);
      const p = name === undefined ? undefined : f.producers.get(name);
      if (p !== undefined && !p.idempotent) return 'enable.idempotence=false';
      if (f.switchesOff.includes('idempotentProducer')) return 'protocol switch off: idempotentProducer';
      return undefined;
    }
    case 'log-matching':
    case 'leader-completeness':
    case 'strong-isr':
    case 'monotonic-high-watermark':
      return clusterLossReason(f);
    case 'lost-unacknowledged-write':
      return 'acks=0';
    case 'duplicate-processing':
      return 'at-least-once delivery (Kafka without transactions)';
    case 'lost-processing':
      return f.asyncProcessingGroups?.has(e.group as string) === true ? 'enable.auto.commit with asynchronous processing' : undefined;
    case 'nonmonotonic-poll':
      if (f.switchesOff.includes('fetchEpochFencing')) return 'protocol switch off: fetchEpochFencing';
      return clusterLossReason(f);
    case 'poll-skip':
      return clusterLossReason(f);
    case 'monotonic-committed-offsets':
    case 'no-double-assignment':
      if (f.singleReplicaOffsets) return 'offsets.topic.replication.factor=1';
      return clusterLossReason(f);
    default:
      return undefined;
  }
}

/** Labels each finding: `permitted` names the configuration that allows it. */
export function labelFindings(violations: readonly Violation[], f: ConfigFacts): Violation[] {
  return violations.map((v) => {
    const reason = permittedBy(v, f);
    return reason === undefined ? v : { ...v, permitted: reason };
  });
}

/**
 * The run's verdict against the scenario's `expect:` list: every expected check was found, and
 * every check found was expected or is in `allowed` (the scenario's `allow:`, for anomalies its
 * configuration permits that some seeds show and others do not). Permission labels do not change
 * the verdict: a user who expects nothing from an acks=1 scenario is told it lost writes.
 */
export function verdictOf(expected: readonly string[], violations: readonly Violation[], allowed: readonly string[] = []): 'pass' | 'fail' {
  const found = new Set(violations.map((v) => v.check));
  if (!expected.every((c) => found.has(c))) return 'fail';
  for (const c of found) if (!expected.includes(c) && !allowed.includes(c)) return 'fail';
  return 'pass';
}
