import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../config/load';
import { ConfigError } from '../errors';
import { logLevel } from 'kafkajs';
import { kafkajsLogLevel, tlsOptions } from './client';

describe('Kafka TLS options', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'tls-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('kafka.ssl alone is passed as is; CA and client certificate files are read', () => {
    expect(tlsOptions(loadConfig({ env: {} }).kafka)).toBe(false);
    expect(tlsOptions(loadConfig({ env: { CHARIOTS_KAFKA_SSL: 'true' } }).kafka)).toBe(true);
    for (const f of ['ca.pem', 'cert.pem', 'key.pem']) writeFileSync(join(dir, f), f);
    const cfg = loadConfig({
      env: {
        CHARIOTS_KAFKA_SSL_CA_FILE: join(dir, 'ca.pem'),
        CHARIOTS_KAFKA_SSL_CERT_FILE: join(dir, 'cert.pem'),
        CHARIOTS_KAFKA_SSL_KEY_FILE: join(dir, 'key.pem'),
      },
    }).kafka;
    const tls = tlsOptions(cfg) as { ca: Buffer[]; cert: Buffer; key: Buffer };
    expect(tls.ca.map(String)).toEqual(['ca.pem']);
    expect(String(tls.cert)).toBe('cert.pem');
    expect(String(tls.key)).toBe('key.pem');
  });

  it('a missing file or a certificate without its key is a configuration error', () => {
    const missing = loadConfig({ env: { CHARIOTS_KAFKA_SSL_CA_FILE: join(dir, 'none') } }).kafka;
    expect(() => tlsOptions(missing)).toThrow(ConfigError);
    writeFileSync(join(dir, 'cert.pem'), 'c');
    const half = loadConfig({ env: { CHARIOTS_KAFKA_SSL_CERT_FILE: join(dir, 'cert.pem') } }).kafka;
    expect(() => tlsOptions(half)).toThrow(/go together/);
  });
});

describe('kafkajs log levels', () => {
  const busy =
    'The producer attempted to update a transaction while another concurrent operation on the same transaction was ongoing';

  it('CONCURRENT_TRANSACTIONS is debug, whether in the message or in the error field', () => {
    // kafkajs' Connection: "Response AddPartitionsToTxn(key: 24, version: 1)" at ERROR, the
    // broker's text in `error` (thousands of such lines per bench invocation before).
    expect(
      kafkajsLogLevel(logLevel.ERROR, 'Response AddPartitionsToTxn(key: 24, version: 1)', busy),
    ).toBe('debug');
    expect(kafkajsLogLevel(logLevel.ERROR, `Failed to send messages: ${busy}`)).toBe('debug');
  });

  it('other errors and warnings keep their level; INFO becomes debug', () => {
    expect(
      kafkajsLogLevel(
        logLevel.ERROR,
        'Response Fetch(key: 1, version: 11)',
        'Broker not available',
      ),
    ).toBe('error');
    expect(kafkajsLogLevel(logLevel.WARN, 'Response without match')).toBe('warn');
    expect(kafkajsLogLevel(logLevel.INFO, 'Consumer has joined the group')).toBe('debug');
  });
});
