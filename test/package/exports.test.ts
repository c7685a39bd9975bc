import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = process.cwd();
const PROGRAM = `
import { Simulator, World, Random, EventQueue, loadScenario, simulate, murmur2, partitionForKey } from 'kafkaesque';
const sim = new Simulator({ seed: 1 });
const q = new EventQueue();
const world = new World({ seed: 2 });
console.log(JSON.stringify({ sim: typeof sim.runUntil, q: typeof q.push, world: typeof world.addMachine, r: Random.fromSeed(1).fork('x').int(1, 6) >= 1, load: typeof loadScenario, simulate: typeof simulate, murmur2: murmur2('21'), partition: partitionForKey(new Uint8Array([97, 98, 99]), 7) }));
`;

/** `import … from 'kafkaesque'` must work as a user's code would write it (DESIGN.md: library). */
describe('package exports', () => {
  // murmur2('21') is Kafka's UtilsTest vector; abc hashes to 479470107, and 479470107 % 7 = 1.
  const expected = { sim: 'function', q: 'function', world: 'function', r: true, load: 'function', simulate: 'function', murmur2: -973932308, partition: 479470107 % 7 };

  it('resolves by self-reference from inside the repository', () => {
    const file = join(ROOT, 'test/package/.self-reference.mjs');
    writeFileSync(file, PROGRAM);
    expect(JSON.parse(execFileSync(process.execPath, [file], { encoding: 'utf8' }))).toEqual(expected);
  });

  it('resolves from a project that depends on it, with types', () => {
    const project = mkdtempSync(join(tmpdir(), 'kafkaesque-user-'));
    mkdirSync(join(project, 'node_modules'));
    symlinkSync(ROOT, join(project, 'node_modules', 'kafkaesque'), 'dir');
    writeFileSync(join(project, 'package.json'), JSON.stringify({ type: 'module', dependencies: { kafkaesque: '*' } }));
    writeFileSync(join(project, 'main.mjs'), PROGRAM);
    expect(JSON.parse(execFileSync(process.execPath, [join(project, 'main.mjs')], { encoding: 'utf8', cwd: project }))).toEqual(expected);
    writeFileSync(join(project, 'main.ts'), `import { Simulator, type RunResult } from 'kafkaesque';\nconst r: RunResult | undefined = undefined;\nexport const n: number = new Simulator({ seed: 1 }).nowUs;\n`);
    writeFileSync(join(project, 'tsconfig.json'), JSON.stringify({ compilerOptions: { module: 'NodeNext', moduleResolution: 'NodeNext', strict: true, noEmit: true, types: [] }, files: ['main.ts'] }));
    execFileSync(process.execPath, [join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', project], { encoding: 'utf8' });
  });
});
