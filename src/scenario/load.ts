import { parseConsumerConfig, type ConsumerConfigInput } from '../kafka/client/consumer/consumer-config.js';
import { readFileSync } from 'node:fs';
import { extname } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { closestMatch, formatPath, ScenarioError, shorten } from './scenario-error.js';
import { scenarioSchema, type ParsedScenario } from './schema.js';
import { ConfigException, parseProducerConfig } from '../kafka/client/producer/producer-config.js';

/** A validated scenario, with where it came from (for messages and replay commands). */
export interface Scenario extends ParsedScenario {
  readonly source: string;
}

const MAX_FILE_BYTES = 4 * 1024 * 1024;

/**
 * Reads and validates a scenario from a YAML or JSON file, or validates an object given
 * directly. Every problem is reported at once, each naming the file, the path inside it, what
 * was found and what was expected. Throws ScenarioError; never returns a half-valid scenario.
 */
export function loadScenario(pathOrObject: string | object): Scenario {
  if (typeof pathOrObject === 'string') {
    const doc = readDocument(pathOrObject);
    return validateScenario(doc, pathOrObject);
  }
  if (pathOrObject === null || typeof pathOrObject !== 'object') {
    throw new ScenarioError([`scenario: expected a file path or an object, found ${describe(pathOrObject)}`]);
  }
  return validateScenario(pathOrObject, '(scenario object)');
}

function readDocument(path: string): unknown {
  let text: string;
  try {
    const buf = readFileSync(path);
    if (buf.length > MAX_FILE_BYTES) throw new ScenarioError([`${path}: the file is ${buf.length} bytes; a scenario may be at most ${MAX_FILE_BYTES}`]);
    if (buf.includes(0)) throw new ScenarioError([`${path}: this is a binary file, not a YAML or JSON scenario`]);
    text = buf.toString('utf8');
  } catch (e) {
    if (e instanceof ScenarioError) throw e;
    const code = (e as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'it is a directory' : code === 'EACCES' ? 'permission denied' : String((e as Error).message);
    throw new ScenarioError([`${path}: cannot read the scenario: ${why}`]);
  }
  try {
    if (extname(path).toLowerCase() === '.json') return JSON.parse(text);
    // maxAliasCount guards against alias bombs ("billion laughs").
    return parseYaml(text, { maxAliasCount: 100, uniqueKeys: true, logLevel: 'error' });
  } catch (e) {
    const msg = String((e as Error).message).split('\n')[0];
    throw new ScenarioError([`${path}: not valid ${extname(path).toLowerCase() === '.json' ? 'JSON' : 'YAML'}: ${msg}`]);
  }
}

/** Validates a parsed document against the schema and returns the typed scenario. */
export function validateScenario(doc: unknown, source: string): Scenario {
  if (doc === null || typeof doc !== 'object' || Array.isArray(doc)) {
    throw new ScenarioError([`${source}: expected a mapping with name, cluster, ... at the top level, found ${describe(doc)}`]);
  }
  const result = scenarioSchema.safeParse(doc);
  if (!result.success) throw new ScenarioError(result.error.issues.flatMap((issue) => formatIssue(source, doc, issue).split("\n")));
  const problems = crossFieldProblems(result.data).map(([path, message]) => `${source}: at ${formatPath(path)}: ${message}`);
  if (problems.length > 0) throw new ScenarioError(problems);
  return { ...result.data, source };
}

/** Checks that span fields: references to topics and brokers, and the producer's own config rules. */
function crossFieldProblems(s: ParsedScenario): [PropertyKey[], string][] {
  const out: [PropertyKey[], string][] = [];
  const brokers = s.cluster.brokers;
  const topics = new Map<string, number>();
  (s.topics ?? []).forEach((t, i) => {
    if (topics.has(t.name)) out.push([['topics', i, 'name'], `topic ${t.name} is defined twice`]);
    topics.set(t.name, t.partitions);
    if (t['replication.factor'] > brokers) {
      out.push([['topics', i, 'replication.factor'], `replication.factor ${t['replication.factor']} is larger than the number of brokers (${brokers})`]);
    }
  });
  if ((s.producers ?? []).length > 0 && topics.size === 0) out.push([['producers'], 'producers need topics: add a topics: section']);
  (s.producers ?? []).forEach((p, i) => {
    if (topics.size > 0 && !topics.has(p.topic)) out.push([['producers', i, 'topic'], `no topic named ${p.topic}; expected one of ${[...topics.keys()].join(', ')}`]);
    if (p.config !== undefined) {
      try {
        parseProducerConfig(p.config);
      } catch (e) {
        if (e instanceof ConfigException) out.push([['producers', i, 'config'], e.message]);
        else throw e;
      }
    }
    if (p.start !== undefined && p.stop !== undefined && p.stop <= p.start) out.push([['producers', i, 'stop'], 'stop must come after start']);
  });
  out.push(...consumerProblems(s, topics));
  const groups = new Map<string, number>();
  for (const c of s.consumers ?? []) groups.set(c.group, (groups.get(c.group) ?? 0) + (c.count ?? 1));
  (s.faults ?? []).forEach((f, i) => {
    const members: [PropertyKey[], unknown][] = Object.entries(f).map(([key, target]) => [[key], target]);
    if (f.partition !== undefined) f.partition.forEach((group, g) => group.forEach((m, j) => members.push([['partition', g, j], m])));
    for (const [path, target] of members) {
      const key = path[0];
      if (key === 'partition' && path.length === 1) continue;
      if (typeof target === 'string' && ['controllers', 'producers', 'others'].includes(target) && topics.size === 0) {
        out.push([['faults', i, ...path], `${target} needs the Kafka model (a topics: section)`]);
      }
      if (typeof target === 'number' && key !== 'at' && key !== 'for' && (target < 1 || target > brokers)) {
        out.push([['faults', i, ...path], `there is no broker ${target}; brokers are 1 to ${brokers}`]);
      }
      if (typeof target === 'string' && /^(leader|follower)\(/.test(target)) {
        const m = /^(?:leader|follower)\((.+)-(\d+)\)$/.exec(target) as RegExpExecArray;
        const partitions = topics.get(m[1]);
        if (partitions === undefined) out.push([['faults', i, ...path], `${target} names no topic of this scenario`]);
        else if (Number(m[2]) >= partitions) out.push([['faults', i, ...path], `${target}: topic ${m[1]} has partitions 0 to ${partitions - 1}`]);
      }
      if (target === 'controller' && topics.size === 0) out.push([['faults', i, ...path], 'controller targets need the Kafka model (a topics: section)']);
      if (typeof target === 'string' && target.startsWith('consumer(')) {
        const m = /^consumer\(([^/)]+)(?:\/(\d+))?\)$/.exec(target) as RegExpExecArray;
        const members = groups.get(m[1]);
        if (members === undefined) out.push([['faults', i, ...path], `${target}: no consumer group ${m[1]} in consumers:`]);
        else if (m[2] !== undefined && (Number(m[2]) < 1 || Number(m[2]) > members)) out.push([['faults', i, ...path], `${target}: group ${m[1]} has consumers 1 to ${members}`]);
      }
      if (target === 'consumers' && (s.consumers ?? []).length === 0) out.push([['faults', i, ...path], 'consumers: this scenario has no consumers: section']);
    }
  });
  out.push(...nemesisProblems(s));
  return out;
}

/** Consumers: their topics exist, their config passes Kafka's rules, and __consumer_offsets can be created. */
function consumerProblems(s: ParsedScenario, topics: ReadonlyMap<string, number>): [PropertyKey[], string][] {
  const out: [PropertyKey[], string][] = [];
  const consumers = s.consumers ?? [];
  if (consumers.length === 0) return out;
  if (topics.size === 0) out.push([['consumers'], 'consumers need topics: add a topics: section']);
  const offsetsRf = Number((s.cluster.config as Record<string, unknown> | undefined)?.['offsets.topic.replication.factor'] ?? 3);
  if (offsetsRf > s.cluster.brokers) {
    out.push([['cluster', 'config', 'offsets.topic.replication.factor'], `is ${offsetsRf} (Kafka's default is 3) but there are ${s.cluster.brokers} broker(s): Kafka could not create __consumer_offsets; set offsets.topic.replication.factor to at most ${s.cluster.brokers}`]);
  }
  consumers.forEach((c, i) => {
    c.topics.forEach((t, j) => {
      if (topics.size > 0 && !topics.has(t)) out.push([['consumers', i, 'topics', j], `no topic named ${t}; expected one of ${[...topics.keys()].join(', ')}`]);
    });
    const config = (c.config ?? {}) as Record<string, unknown>;
    if (config['group.id'] !== undefined) out.push([['consumers', i, 'config', 'group.id'], 'the group id is the consumer entry\'s group: field; remove group.id from config']);
    try {
      const parsed = parseConsumerConfig({ ...(c.config as ConsumerConfigInput), 'group.id': c.group });
      const commit = c.processing?.commit;
      if ((commit === 'auto' || commit === 'async-processing') && !parsed['enable.auto.commit']) {
        out.push([['consumers', i, 'processing', 'commit'], `${commit} relies on enable.auto.commit=true, which this consumer's config turns off`]);
      }
    } catch (e) {
      if (e instanceof ConfigException) out.push([['consumers', i, 'config'], e.message]);
      else throw e;
    }
  });
  return out;
}

/** `nemesis.window` must be a real span inside the fault window (after it, everything heals). */
function nemesisProblems(s: ParsedScenario): [PropertyKey[], string][] {
  const w = s.nemesis?.window;
  if (w === undefined) return [];
  const out: [PropertyKey[], string][] = [];
  const durationUs = s.duration ?? 30_000_000;
  if (w.start !== undefined && w.start >= durationUs) out.push([['nemesis', 'window', 'start'], `the window starts at or after the end of the fault window (duration ${durationUs / 1_000_000}s)`]);
  if (w.stop !== undefined && w.stop > durationUs) out.push([['nemesis', 'window', 'stop'], `the window ends after the fault window (duration ${durationUs / 1_000_000}s); everything heals then`]);
  if (w.start !== undefined && w.stop !== undefined && w.stop <= w.start) out.push([['nemesis', 'window', 'stop'], 'stop must come after start']);
  return out;
}

function formatIssue(source: string, doc: unknown, issue: z.core.$ZodIssue): string {
  const where = `${source}: at ${formatPath(issue.path)}`;
  if (issue.code === 'unrecognized_keys') {
    const known = knownKeysAt(issue.path);
    return issue.keys
      .map((key) => {
        const hint = closestMatch(key, known);
        const path = formatPath([...issue.path, key]);
        const list = known.length > 8 ? `${known.slice(0, 8).join(', ')}, … (${known.length} keys, listed in the README)` : known.join(', ');
        return `${source}: at ${path}: unknown key ${JSON.stringify(shorten(key))}${hint ? `; did you mean ${hint}?` : known.length ? `; expected one of ${list}` : ''}`;
      })
      .join('\n');
  }
  const found = valueAt(doc, issue.path);
  const foundText = found.present ? `, found ${describe(found.value)}` : ', but it is missing';
  if (issue.code === 'invalid_type' || issue.code === 'invalid_union' || issue.code === 'invalid_value') {
    return `${where}: ${issue.message}${foundText}`;
  }
  if (issue.code === 'custom') return `${where}: ${issue.message}`;
  return `${where}: ${issue.message}${found.present ? ` (found ${describe(found.value)})` : ''}`;
}

/** The keys the schema allows at `path`, for "did you mean" suggestions. */
function knownKeysAt(path: readonly PropertyKey[]): string[] {
  let schema: z.ZodType = scenarioSchema;
  for (const part of path) {
    schema = unwrap(schema);
    if (schema instanceof z.ZodArray && typeof part === 'number') schema = schema.element as z.ZodType;
    else if (schema instanceof z.ZodObject) {
      const next = (schema.shape as Record<string, z.ZodType>)[String(part)];
      if (next === undefined) return [];
      schema = next;
    } else return [];
  }
  schema = unwrap(schema);
  return schema instanceof z.ZodObject ? Object.keys(schema.shape) : [];
}

function unwrap(schema: z.ZodType): z.ZodType {
  let s = schema;
  for (let i = 0; i < 10; i++) {
    if (s instanceof z.ZodOptional || s instanceof z.ZodNullable || s instanceof z.ZodDefault) s = s.unwrap() as z.ZodType;
    else if (s instanceof z.ZodPipe) s = s.in as z.ZodType;
    else break;
  }
  return s;
}

function valueAt(doc: unknown, path: readonly PropertyKey[]): { present: boolean; value?: unknown } {
  let v: unknown = doc;
  for (const part of path) {
    if (v === null || typeof v !== 'object' || !Object.prototype.hasOwnProperty.call(v, part)) return { present: false };
    v = (v as Record<PropertyKey, unknown>)[part];
  }
  return { present: true, value: v };
}

/** A short, safe description of a found value: never the whole of a huge or deep value. */
function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return `a list of ${value.length}`;
  if (typeof value === 'object') return 'a mapping';
  if (typeof value === 'string') return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value);
  return String(value);
}
