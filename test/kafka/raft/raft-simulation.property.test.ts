import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { RaftCluster } from './raft-cluster.js';
import { playFaults, raftFaultArb, splitSides, type RaftFault } from './raft-faults.js';

const LONG = process.env.KAFKAESQUE_LONG !== undefined && process.env.KAFKAESQUE_LONG !== '';

/**
 * The liveness bound, in delivered events, for a leader to be elected once every fault is healed.
 *
 * In time: after the heal every machine boots at once. The slowest path to a consistent leader
 * is a node that still believes in a dead leader's epoch: its fetch timer (2 s) expires, its
 * PreVote round can last one election timeout (≤ 2 s) before it falls back, and a split vote
 * costs another timeout (≤ 2 s) or, with pre-vote off, a backoff (≤ 1 s) plus one; a leader
 * isolated on the minority side resigns after 1.5 × fetch timeout (3 s), and a restarted old
 * leader sits in Resigned for one election timeout. Adding two split rounds, that is under 15 s
 * of simulated time.
 * In events: the busiest configuration (5 voters, 3 observers) delivers about 300 events per
 * simulated second while leaderless (election timers, vote rounds, observers asking voters every
 * retry.backoff.ms = 20 ms, disk writeback ticks) and well under 1000 per second while a leader
 * replicates a record every 100 ms (measured: see `events/s` below). 15 s × 1000 events/s gives
 * 15,000; N = 20,000 leaves a margin. Kafka's own runUntil allows 500,000 events, a bound on
 * everything, not on the election.
 */
const LEADER_ELECTED_WITHIN_EVENTS = 20_000;
/** After the leader is elected, every node must reach a higher HW within this many events. */
const PROGRESS_WITHIN_EVENTS = 60_000;

interface Scenario {
  seed: number;
  voters: number;
  observers: number;
  preVote: boolean;
  faults: RaftFault[];
}

const scenarioArb: fc.Arbitrary<Scenario> = fc.record({
  seed: fc.integer({ min: 0, max: 1_000_000 }),
  voters: fc.integer({ min: 1, max: 5 }),
  observers: fc.integer({ min: 0, max: 3 }),
  preVote: fc.boolean(),
  faults: fc.array(raftFaultArb, { maxLength: 6 }),
});

export interface SimulationResult {
  electionEvents: number;
  electionMs: number;
  events: number;
  simulatedMs: number;
}

/**
 * One RaftEventSimulationTest-style run: warm up until a leader is elected and some entries are
 * committed, play the faults, heal everything, then require a leader within the liveness bound
 * and progress past the highest HW seen. Every invariant is checked after every event; the
 * committed data of every running node is validated at the end.
 */
export function runSimulation(s: Scenario): SimulationResult {
  const c = new RaftCluster({ seed: s.seed, voters: s.voters, observers: s.observers, preVote: s.preVote });
  const warm = c.runUntil(() => c.hasConsistentLeader(), { maxEvents: LEADER_ELECTED_WITHIN_EVENTS });
  expect(warm.satisfied, 'initial leader').toBe(true);
  expect(c.runUntil(() => c.maxHighWatermark() > 10, { maxEvents: PROGRESS_WITHIN_EVENTS }).satisfied, 'initial progress').toBe(true);

  playFaults(c, s.faults);

  c.act(() => c.healAll());
  const healedAt = c.nowMs;
  const election = c.runUntil(() => c.hasConsistentLeader(), { maxEvents: LEADER_ELECTED_WITHIN_EVENTS });
  expect(election.satisfied, `a leader within ${LEADER_ELECTED_WITHIN_EVENTS} events of healing`).toBe(true);
  const electionMs = c.nowMs - healedAt;
  const target = c.maxHighWatermark() + 10;
  expect(c.runUntil(() => c.allReachedHighWatermark(target), { maxEvents: PROGRESS_WITHIN_EVENTS }).satisfied, `every node past HW ${target}`).toBe(true);
  c.invariants.validateAll();
  expect(c.invariants.violations).toEqual([]);
  return { electionEvents: election.events, electionMs, events: c.world.sim.eventsDelivered, simulatedMs: c.nowMs };
}

describe('RaftEventSimulationTest: random quorums under kills, power loss and partitions', () => {
  it('keeps every invariant after every event, and elects a leader within the bound once healed', () => {
    let worstEvents = 0;
    let worstMs = 0;
    let events = 0;
    let simulatedMs = 0;
    fc.assert(
      fc.property(scenarioArb, (s) => {
        const r = runSimulation(s);
        worstEvents = Math.max(worstEvents, r.electionEvents);
        worstMs = Math.max(worstMs, r.electionMs);
        events += r.events;
        simulatedMs += r.simulatedMs;
      }),
      { numRuns: Number(process.env.KAFKAESQUE_RAFT_RUNS ?? (LONG ? 1_000 : 150)), seed: process.env.KAFKAESQUE_RAFT_SEED !== undefined ? Number(process.env.KAFKAESQUE_RAFT_SEED) : undefined },
    );
    if (process.env.KAFKAESQUE_RAFT_STATS !== undefined) {
      console.log(`worst election after heal: ${worstEvents} events, ${worstMs.toFixed(0)} ms; events/s ${(events / (simulatedMs / 1000)).toFixed(0)}`);
    }
    expect(worstEvents).toBeLessThanOrEqual(LEADER_ELECTED_WITHIN_EVENTS);
  });

  it('canMakeProgressIfMajorityIsReachable: five voters split 2|3, the majority commits and the minority cannot; all catch up after healing', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 1_000_000 }), fc.integer({ min: 0, max: 3 }), fc.nat({ max: 1023 }), (seed, observers, mask) => {
        const c = new RaftCluster({ seed, voters: 5, observers });
        expect(c.runUntil(() => c.hasConsistentLeader(), { maxEvents: LEADER_ELECTED_WITHIN_EVENTS }).satisfied).toBe(true);
        expect(c.runUntil(() => c.maxHighWatermark() > 10, { maxEvents: PROGRESS_WITHIN_EVENTS }).satisfied).toBe(true);
        const [minority, majority] = splitSides(c, mask);
        const minorityVoters = minority.filter((id) => c.voterIds.includes(id));
        expect(minorityVoters).toHaveLength(2);
        const epochAtSplit = Math.max(...c.runningIds().map((id) => c.client(id).epoch));
        c.act(() => c.world.network.partition([minority, majority]));
        const before = c.maxHighWatermark();
        expect(c.runUntil(() => c.maxHighWatermark(majority) > before + 20, { maxEvents: PROGRESS_WITHIN_EVENTS }).satisfied, 'majority progress').toBe(true);
        expect(c.maxHighWatermark(majority)).toBeGreaterThan(c.maxHighWatermark(minority));
        for (const id of minorityVoters) expect(c.client(id).role === 'leader' && c.client(id).epoch > epochAtSplit, `a new leader in the minority`).toBe(false);
        c.act(() => c.world.network.heal());
        const target = c.maxHighWatermark() + 10;
        expect(c.runUntil(() => c.allReachedHighWatermark(target), { maxEvents: PROGRESS_WITHIN_EVENTS }).satisfied, 'catch up').toBe(true);
        c.invariants.validateAll();
      }),
      { numRuns: LONG ? 300 : 25 },
    );
  });

  it('canRecoverAfterAllNodesKilled, with power loss: every machine loses power at once, a majority comes back, nothing committed is lost', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 1_000_000 }),
        fc.integer({ min: 1, max: 5 }),
        fc.integer({ min: 0, max: 2 }),
        fc.integer({ min: 0, max: 3_000 }),
        fc.nat({ max: 31 }),
        (seed, voters, observers, runMs, mask) => {
          const c = new RaftCluster({ seed, voters, observers });
          expect(c.runUntil(() => c.hasConsistentLeader(), { maxEvents: LEADER_ELECTED_WITHIN_EVENTS }).satisfied).toBe(true);
          c.runForMs(runMs);
          const committed = c.maxHighWatermark();
          c.act(() => c.world.machines().forEach((m) => m.powerOff()));
          c.runForMs(100);
          // A majority of voters (picked by `mask`), and every observer.
          const majority = Math.floor(voters / 2) + 1;
          const back = [...c.voterIds.filter((_, i) => ((mask >> i) & 1) === 1), ...c.voterIds].filter((v, i, all) => all.indexOf(v) === i).slice(0, majority);
          c.act(() => [...back, ...c.observerIds].forEach((id) => c.world.machine(id).powerOn()));
          expect(c.runUntil(() => c.allReachedHighWatermark(committed + 5, back), { maxEvents: PROGRESS_WITHIN_EVENTS }).satisfied, 'progress after the outage').toBe(true);
          c.act(() => c.healAll());
          const target = c.maxHighWatermark() + 5;
          expect(c.runUntil(() => c.allReachedHighWatermark(target), { maxEvents: PROGRESS_WITHIN_EVENTS }).satisfied, 'everyone back').toBe(true);
          c.invariants.validateAll();
        },
      ),
      { numRuns: LONG ? 500 : 40 },
    );
  });
});
