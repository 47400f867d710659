/**
 * The SDK is HTTP only: it must not load kafkajs, fastify or any other server module, so
 * `chariots/client` stays light for applications. Checked on the import graph of src/client.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';

const root = resolve(__dirname, '../..');
const IMPORT =
  /(?:^|\n)\s*(?:import|export)\s[^;]*?from\s+'([^']+)'|require\('([^']+)'\)|import\('([^']+)'\)/g;

function importsOf(file: string): string[] {
  const src = readFileSync(file, 'utf8');
  const out: string[] = [];
  for (const m of src.matchAll(IMPORT)) {
    // `import type` is erased at run time.
    if (/^\s*(import|export)\s+type\s/.test(m[0].trimStart())) continue;
    out.push((m[1] ?? m[2] ?? m[3])!);
  }
  return out;
}

it('src/client loads only node: builtins and pure helpers of src/record', () => {
  const start = readdirSync(join(root, 'src/client'))
    .filter((f) => f.endsWith('.ts') && !f.endsWith('.test.ts'))
    .map((f) => join(root, 'src/client', f));
  const seen = new Set<string>();
  const external = new Set<string>();
  const todo = [...start];
  while (todo.length > 0) {
    const file = todo.pop()!;
    if (seen.has(file)) continue;
    seen.add(file);
    for (const spec of importsOf(file)) {
      if (spec.startsWith('.')) todo.push(`${resolve(dirname(file), spec)}.ts`);
      else external.add(spec);
    }
  }
  expect([...external].filter((s) => !s.startsWith('node:'))).toEqual([]);
  const outside = [...seen]
    .map((f) => relative(root, f))
    .filter((f) => !f.startsWith('src/client/'));
  expect(outside).toEqual(['src/record/hash.ts']);
});
