import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readFileSync } from 'node:fs';
import { ChariotsError } from '../errors';
import { loadConfig, topicPrefix } from './load';
import { allOptions } from './paths';
import { renderConfigReference } from './reference';

const codeOf = (fn: () => unknown) => {
  try {
    fn();
  } catch (e) {
    return (e as ChariotsError).code;
  }
  return undefined;
};

describe('configuration', () => {
  it('has a default for every option and is frozen', () => {
    const c = loadConfig({ env: {} });
    expect(c.http.port).toBe(8080);
    expect(c.tcp.port).toBe(9000);
    expect(c.http.adminPort).toBe(8081);
    expect(c.queue.deferTimeoutMs).toBe(600000);
    expect(Object.isFrozen(c)).toBe(true);
    expect(Object.isFrozen(c.http)).toBe(true);
    for (const o of allOptions()) expect(o.defaultValue).not.toBeUndefined();
  });

  it('reads file < env < flags < overrides, under the same names', () => {
    const dir = mkdtempSync(join(tmpdir(), 'chariots-config-'));
    const file = join(dir, 'c.json');
    writeFileSync(
      file,
      JSON.stringify({
        http: { port: 1 },
        tcp: { port: 2 },
        queue: { deferTimeoutMs: 3 },
        dcId: 4,
      }),
    );
    const c = loadConfig({
      file,
      env: {
        CHARIOTS_TCP_PORT: '20',
        CHARIOTS_QUEUE_DEFER_TIMEOUT_MS: '30',
        CHARIOTS_HTTP_ENABLED: 'false',
      },
      flags: { 'queue.deferTimeoutMs': '300' },
      overrides: { dcId: 7 },
    });
    expect(c.http.port).toBe(1);
    expect(c.tcp.port).toBe(20);
    expect(c.queue.deferTimeoutMs).toBe(300);
    expect(c.http.enabled).toBe(false);
    expect(c.dcId).toBe(7);
  });

  it('accepts KAFKA_BROKERS as a comma-separated list', () => {
    expect(loadConfig({ env: { KAFKA_BROKERS: 'a:1, b:2' } }).kafka.brokers).toEqual([
      'a:1',
      'b:2',
    ]);
    expect(
      loadConfig({ env: { KAFKA_BROKERS: 'a:1', CHARIOTS_KAFKA_BROKERS: 'c:3' } }).kafka.brokers,
    ).toEqual(['c:3']);
    // Regression: any other CHARIOTS_KAFKA_* variable used to hide KAFKA_BROKERS.
    expect(
      loadConfig({ env: { KAFKA_BROKERS: 'a:1', CHARIOTS_KAFKA_SSL: 'false' } }).kafka.brokers,
    ).toEqual(['a:1']);
  });

  it('refuses bad values, unknown keys and unreadable files with CHARIOTS_ERR_BAD_CONFIG naming the option', () => {
    expect(codeOf(() => loadConfig({ env: { CHARIOTS_HTTP_PORT: 'eighty' } }))).toBe(
      'CHARIOTS_ERR_BAD_CONFIG',
    );
    expect(codeOf(() => loadConfig({ env: { CHARIOTS_HTTP_PORT: '70000' } }))).toBe(
      'CHARIOTS_ERR_BAD_CONFIG',
    );
    expect(codeOf(() => loadConfig({ env: { CHARIOTS_TCP_ENABLED: 'maybe' } }))).toBe(
      'CHARIOTS_ERR_BAD_CONFIG',
    );
    expect(codeOf(() => loadConfig({ env: { CHARIOTS_LOG_LEVEL: 'loud' } }))).toBe(
      'CHARIOTS_ERR_BAD_CONFIG',
    );
    expect(codeOf(() => loadConfig({ env: {}, file: '/nonexistent/chariots.json' }))).toBe(
      'CHARIOTS_ERR_BAD_CONFIG',
    );
    const dir = mkdtempSync(join(tmpdir(), 'chariots-config-'));
    writeFileSync(join(dir, 'typo.json'), JSON.stringify({ http: { prot: 1 } }));
    try {
      loadConfig({ env: {}, file: join(dir, 'typo.json') });
      throw new Error('should have failed');
    } catch (e) {
      expect((e as ChariotsError).code).toBe('CHARIOTS_ERR_BAD_CONFIG');
      expect((e as Error).message).toContain('http.prot');
    }
    try {
      loadConfig({ env: { CHARIOTS_HTTP_PORT: '-1' } });
    } catch (e) {
      expect((e as Error).message).toContain('http.port');
    }
  });

  it('reads batcher.readUrls as a comma-separated list of http(s) URLs, from each source alike', () => {
    const want = ['http://m1:8082', 'https://m2.example:8443/reads'];
    const dir = mkdtempSync(join(tmpdir(), 'chariots-config-'));
    const file = join(dir, 'c.json');
    writeFileSync(file, JSON.stringify({ batcher: { readUrls: want } }));
    const joined = 'http://m1:8082, https://m2.example:8443/reads';
    expect(loadConfig({ env: {}, file }).batcher.readUrls).toEqual(want);
    expect(loadConfig({ env: { CHARIOTS_BATCHER_READ_URLS: joined } }).batcher.readUrls).toEqual(
      want,
    );
    expect(loadConfig({ env: {}, flags: { 'batcher.readUrls': joined } }).batcher.readUrls).toEqual(
      want,
    );
    expect(loadConfig({ env: {} }).batcher.readUrls).toEqual([]);
    const o = allOptions().find((x) => x.key === 'batcher.readUrls');
    expect([o?.env, o?.flag]).toEqual(['CHARIOTS_BATCHER_READ_URLS', '--batcher-read-urls']);
    for (const bad of ['maintainer:8082', 'ftp://m:1', 'http://m:8082/?x=1', 'http://'])
      expect(codeOf(() => loadConfig({ env: { CHARIOTS_BATCHER_READ_URLS: bad } }))).toBe(
        'CHARIOTS_ERR_BAD_CONFIG',
      );
  });

  it('names env vars and flags consistently', () => {
    const o = allOptions().find((x) => x.key === 'queue.deferTimeoutMs');
    expect(o?.env).toBe('CHARIOTS_QUEUE_DEFER_TIMEOUT_MS');
    expect(o?.flag).toBe('--queue-defer-timeout-ms');
  });

  it('derives one topic prefix per datacenter', () => {
    expect(topicPrefix({ topicPrefix: '', dcId: 3 })).toBe('dc3.');
    expect(topicPrefix({ topicPrefix: 'x.', dcId: 3 })).toBe('x.');
  });

  it('docs/configuration.md is the generated reference', () => {
    const doc = readFileSync(join(__dirname, '..', '..', 'docs', 'configuration.md'), 'utf8');
    expect(doc).toBe(renderConfigReference());
  });
});
