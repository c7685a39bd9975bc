import type { Violation } from '../check/violation.js';
import type { DurationUs, TimeUs } from '../engine/time.js';
import type { FaultInterval } from '../faults/scripted-nemesis.js';
import type { NodeId } from '../world/node.js';
import type { RunFigures } from './run-recorder.js';

export interface RunStats {
  events: number;
  simulatedMs: number;
  wallMs: number;
  recordsSent: number;
  recordsAcked: number;
  recordsPolled: number;
  /** Kafka runs: how often producers met each error on a produce attempt, retried or not. */
  producerErrors?: Record<string, number>;
}

/** What `run --json` prints (DESIGN.md), plus what the report draws. */
export interface RunResult {
  scenario: string;
  seed: number | string;
  verdict: 'pass' | 'fail';
  expected: string[];
  violations: Violation[];
  traceHash: string;
  stats: RunStats;
  replay: string;
}

export interface RunDetail {
  nodes: { id: NodeId; name: string; rack: string }[];
  faults: FaultInterval[];
  faultWindowUs: DurationUs;
  endUs: TimeUs;
  /** Per node: records acknowledged, and which of them were lost. */
  writes: { node: string; acked: number; lost: number }[];
  /** What the report's figures draw (replica logs, message windows, charts); Kafka runs only. */
  figures?: RunFigures;
}

export interface SimulateOptions {
  seed?: number | string;
  /** Overrides the scenario's `duration` (the fault window). */
  durationUs?: DurationUs;
  /** Wall clock for `stats.wallMs`; model code never reads one (DESIGN.md rule 1). */
  wallClockMs?: () => number;
  /** Record what the report draws beyond the history (default true; a search over seeds can turn it off). */
  record?: boolean;
}

