import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeRunReport } from '../../src/report/html-report.js';
import { loadScenario, type Scenario } from '../../src/scenario/load.js';
import { simulate } from '../../src/scenario/simulate.js';

/** The quickstart story, shortened, under a hostile name: a leader cut off with its producer, acks=1. */
export const HOSTILE_NAME = '<script>alert(1)</script>';
export const HOSTILE_DESCRIPTION = '<img src=x onerror=alert(2)> & "quotes"';

export function lossyScenarioYaml(name = HOSTILE_NAME): string {
  return `name: ${JSON.stringify(name)}
description: ${JSON.stringify(HOSTILE_DESCRIPTION)}
notes: "</p><script>alert(3)</script>"
seed: 7
duration: 18s
cluster:
  brokers: 3
  controllers: 1
  racks: [a, b, c]
  config: { min.insync.replicas: 2, unclean.leader.election.enable: false }
network:
  latency: { distribution: exponential, meanMs: 1 }
topics:
  - { name: orders, partitions: 2, replication.factor: 3 }
producers:
  - { count: 1, topic: orders, rate: 200/s, keys: 10, config: { acks: 1, enable.idempotence: false } }
faults:
  - { at: 4s, partition: [[leader(orders-0), producers], [others]], for: 12s }
expect: [lost-write]
`;
}

export function scenarioFile(yaml: string, name = 'lossy.yaml'): Scenario {
  const dir = mkdtempSync(join(tmpdir(), 'kafkaesque-report-'));
  const path = join(dir, name);
  writeFileSync(path, yaml);
  return loadScenario(path);
}

/** Runs the scenario and writes its report into a fresh directory; returns the directory. */
export function generateReport(scenario: Scenario, options: { record?: boolean } = {}): { dir: string; result: ReturnType<typeof simulate> } {
  const dir = mkdtempSync(join(tmpdir(), 'kafkaesque-report-out-'));
  const result = simulate(scenario, options);
  const { detail, ...json } = result;
  writeRunReport(dir, scenario, json, detail);
  return { dir, result };
}
