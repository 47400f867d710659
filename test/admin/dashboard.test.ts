/** docs/operations.md and the Grafana dashboard describe exactly the metrics that exist. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { metrics } from '../../src/metrics';

const docs = join(__dirname, '..', '..', 'docs');

describe('operations docs and dashboard', () => {
  const registered = (metrics().registry.getMetricsAsArray() as Array<{ name: string }>)
    .map((m) => m.name)
    .filter((n) => n.startsWith('chariots_'));

  it('documents every chariots metric in docs/operations.md', () => {
    const md = readFileSync(join(docs, 'operations.md'), 'utf8');
    expect(registered.length).toBeGreaterThanOrEqual(8);
    for (const name of registered) expect(md).toContain(`| \`${name}\` |`);
  });

  it('the Grafana dashboard parses and queries only metrics that exist', () => {
    const d = JSON.parse(readFileSync(join(docs, 'grafana-dashboard.json'), 'utf8')) as {
      panels: Array<{ targets: Array<{ expr: string }> }>;
    };
    expect(d.panels.length).toBeGreaterThan(0);
    const used = new Set<string>();
    for (const p of d.panels)
      for (const t of p.targets)
        for (const m of t.expr.matchAll(/chariots_[a-z_]+/g))
          used.add(m[0].replace(/_(bucket|sum|count)$/, ''));
    for (const name of used) expect(registered).toContain(name);
    expect(used.size).toBe(registered.length);
  });
});
