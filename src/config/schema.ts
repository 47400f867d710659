import { z } from 'zod';

/**
 * Every option Chariots reads, with its default and unit, in ONE schema. The same path is
 * reachable three ways, in increasing precedence: config file (`{"http":{"port":8080}}`),
 * environment (`CHARIOTS_HTTP_PORT=8080`) and flag (`--http-port 8080`). The reference in
 * docs/configuration.md is generated from the descriptions here (`chariots config docs`).
 */
const int = (def: number, doc: string, min = 0, max = Number.MAX_SAFE_INTEGER) =>
  z.number().int().min(min).max(max).default(def).describe(doc);
const port = (def: number, doc: string) =>
  int(def, `${doc} (TCP port; 0 = pick a free one)`, 0, 65535);
const str = (def: string, doc: string) => z.string().default(def).describe(doc);
const bool = (def: boolean, doc: string) => z.boolean().default(def).describe(doc);

/** A bearer token and its roles, `<token>:<role>[+<role>…]` (src/http/auth.ts). */
export const AUTH_TOKEN_PATTERN = /^[^\s,]+:(append|read|admin)(\+(append|read|admin))*$/;

export const configSchema = z.object({
  dcId: int(1, 'This datacenter id (1..N); records posted with host 0 get it', 1, 65535),
  topicPrefix: str('', 'Prefix of every topic name; empty = "dc<dcId>."'),
  dataDir: str('./data', 'Directory for flstore segments and local state'),
  log: z
    .object({
      level: z
        .enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'])
        .default('info')
        .describe('pino log level'),
    })
    .prefault({}),
  kafka: z
    .object({
      brokers: z
        .array(z.string().min(1))
        .default([])
        .describe(
          'Bootstrap brokers host:port, comma separated; empty = KAFKA_BROKERS, else the embedded local broker (dev only)',
        ),
      clientId: str('chariots', 'Kafka client id prefix'),
      connectionTimeoutMs: int(3000, 'Broker connection timeout (ms)', 100),
      requestTimeoutMs: int(30000, 'Broker request timeout (ms)', 100),
      sessionTimeoutMs: int(
        10000,
        'Consumer group session timeout (ms): how long a dead stage instance keeps its partitions (and the sequencer its role)',
        3000,
      ),
      partitionsConcurrency: int(
        8,
        "Input partitions whose transactions a filter or queue instance runs at the same time (each partition has its own transactional producer); 1 = one after the other. The default covers the 8 ingest partitions: overlapping their transactions' round trips lowers the latency (docs/performance.md)",
        1,
        64,
      ),
      offsetCommitIntervalMs: int(
        1000,
        "How often (ms) a filter, queue or sequencer partition also commits its input offset to its consumer group, inside a transaction. In between, the stage's own changelog (dedup, deferred, the log's ro header) records it in every transaction, and a takeover resumes from there: transactions save two of their five round trips. Consumer-group lag reads up to this much behind; 0 = in every transaction",
        0,
        600000,
      ),
      ssl: bool(false, 'Use TLS to the brokers'),
      sslCaFile: str(
        '',
        "PEM file of the CA(s) that signed the brokers' certificates; empty = the system CAs (implies ssl)",
      ),
      sslCertFile: str('', 'PEM client certificate for mutual TLS (with sslKeyFile; implies ssl)'),
      sslKeyFile: str('', 'PEM private key of sslCertFile'),
      saslMechanism: z
        .enum(['none', 'plain', 'scram-sha-256', 'scram-sha-512'])
        .default('none')
        .describe('SASL mechanism'),
      saslUsername: str('', 'SASL username'),
      saslPassword: str('', 'SASL password'),
    })
    .prefault({}),
  http: z
    .object({
      enabled: bool(true, 'Serve the HTTP API'),
      host: str('0.0.0.0', 'HTTP API bind address'),
      port: port(8080, 'HTTP API port'),
      bodyLimitBytes: int(10 * 1024 * 1024, 'Max HTTP request body (bytes)', 1024),
      headersTimeoutMs: int(
        10000,
        'A client that has not sent all request headers this long after connecting (or after its previous request) gets 408 and is disconnected (ms)',
        100,
      ),
      requestTimeoutMs: int(
        30000,
        'A client that has not sent its whole request (headers and body) within this time gets 408 and is disconnected (ms); the answer itself may take longer (?wait=appended)',
        100,
      ),
      maxConnections: int(
        1024,
        'Max concurrent connections per HTTP port (API, admin); more are closed at once',
        1,
      ),
      adminEnabled: bool(true, 'Serve the admin view'),
      adminHost: str('0.0.0.0', 'Admin view bind address'),
      adminPort: port(8081, 'Admin view port'),
    })
    .prefault({}),
  auth: z
    .object({
      tokens: z
        .array(
          z
            .string()
            .regex(
              AUTH_TOKEN_PATTERN,
              'a token is <token>:<role>[+<role>…] with roles append, read, admin',
            ),
        )
        .default([])
        .describe(
          'Bearer tokens of the HTTP API and admin port, comma separated, each <token>:<role>[+<role>…] (roles append, read, admin; admin implies the others); none here nor in tokensFile = no authentication',
        ),
      tokensFile: str(
        '',
        'File of bearer tokens, one <token>:<role>[+<role>…] per line (# comments); re-read on SIGHUP; set = authentication on even if empty',
      ),
    })
    .prefault({}),
  tcp: z
    .object({
      enabled: bool(true, 'Serve the GoChariots raw TCP ingest'),
      host: str('0.0.0.0', 'TCP ingest bind address'),
      port: port(9000, 'TCP ingest port'),
      maxFrameBytes: int(
        1024 * 1024,
        'Max TCP frame length (bytes); a larger declared length closes the connection',
        16,
      ),
      maxConnections: int(1024, 'Max concurrent TCP ingest connections; more are refused', 1),
      idleTimeoutMs: int(300000, 'A TCP ingest connection silent this long is closed (ms)', 1000),
    })
    .prefault({}),
  record: z
    .object({
      maxRecordBytes: int(65536, 'Max serialized size of one record (bytes)', 256),
      maxTags: int(256, 'Max tags per record', 0),
      maxKeyLength: int(256, 'Max tag key length (characters)', 1),
      maxValueLength: int(16384, 'Max tag value length (characters)', 0),
      maxPrerequisites: int(64, 'Max prehash + parent entries per record', 0),
      maxIdLength: int(128, 'Max record id length (characters)', 1, 128),
    })
    .prefault({}),
  health: z
    .object({
      stallMs: int(
        60000,
        'A consuming stage (filter, queue, sequencer) whose input has records waiting and whose position did not move for this long reports not ready on /readyz, with the reason (ms); 0 = never',
        0,
      ),
    })
    .prefault({}),
  batcher: z
    .object({
      lingerMs: int(2, 'How long a produce waits to gather more records (ms)', 0, 1000),
      maxBatchRecords: int(2000, 'Max records in one produce request', 1),
      maxPendingRecords: int(
        100000,
        'Records accepted but not yet acked by the broker before new ones get 429',
        1,
      ),
      maxPendingBytes: int(
        64 * 1024 * 1024,
        'Bytes of records accepted but not yet acked by the broker before new ones get 429 (bounds the memory of a batcher whose broker is slow or down)',
        1024,
      ),
      maxInflightBodyBytes: int(
        64 * 1024 * 1024,
        'Sum of the declared bodies (Content-Length; a chunked body counts as http.bodyLimitBytes) of POST /record(s) being read or answered; a request beyond it gets 429 before its body is read',
        1024,
      ),
      ackTimeoutMs: int(
        10000,
        'A request whose records the broker has not acknowledged within this time gets 503 with Retry-After (the records may still be appended; retry with the same ids) (ms)',
        100,
      ),
      maxEventLoopDelayMs: int(
        100,
        'While the event loop runs later than this, the TCP listener stops reading and POST /record(s) get 429 before their body is read, so new connections are still accepted and answered (ms; 0 = off)',
        0,
      ),
      waitTimeoutMs: int(30000, 'Default timeout of ?wait=appended (ms)', 1),
      readUrls: z
        .array(
          z
            .string()
            .regex(
              /^https?:\/\/[^\s,/?#]+(\/[^\s,?#]*)?$/,
              'a read URL is http(s)://host:port[/path], no query',
            ),
        )
        .default([])
        .describe(
          "Base URLs of maintainers' read APIs (maintainer.port), comma separated, e.g. http://maintainer:8082; when set and no maintainer runs in this process, the batcher forwards the read routes (GET /record/:lid, /records, /log, /log/head, /log/stream) there, trying the next URL when one does not answer; empty = the batcher serves reads only from an in-process maintainer",
        ),
      readTimeoutMs: int(
        5000,
        "How long a forwarded read may take (ms): connecting and the answer's headers, and again for its body (not for /log/stream, which never ends); then the next read URL is tried, and when none answered the request gets 503 CHARIOTS_ERR_MAINTAINER_UNAVAILABLE",
        100,
      ),
    })
    .prefault({}),
  filter: z
    .object({
      dedupWindowMs: int(
        24 * 3600 * 1000,
        'How long an id is remembered for deduplication (ms; at most 30 days). Memory: ~40 bytes per id admitted within the window, per ingest partition',
        1000,
        30 * 24 * 3600 * 1000,
      ),
    })
    .prefault({}),
  queue: z
    .object({
      deferTimeoutMs: int(
        600000,
        'How long a local record may wait for its prerequisites before it is dead-lettered (ms); 0 = forever. Records replicated from a peer never expire',
        0,
      ),
      scanIntervalMs: int(1000, 'How often deferred records are checked for expiry (ms)', 10),
      heapGrowthPercent: int(
        0,
        "How far the V8 heap of the process running the queue may grow past its live data before the next full collection (% of the live heap; V8's --heap-growing-percent, set when the queue starts, for the whole process); 0 = V8's own choice, up to 4x the live heap. 50 measured: ~50 MB less peak RSS with 100 000 deferred records, ~2 ms more queue CPU per 1 000 records",
        0,
        1000,
      ),
    })
    .prefault({}),
  sequencer: z
    .object({
      dedupRecords: int(
        200000,
        'How many of the newest log records the sequencer remembers by id, at least (it keeps up to twice as many: two generations of id digest tables, 8 MiB each at the default): a record whose id is among them is not appended again (a second copy from upstream after a failover). Every instance, standby too, follows the log to keep them; a process reads that many records when it starts (records)',
        0,
      ),
    })
    .prefault({}),
  replication: z
    .object({
      peers: z
        .array(
          z
            .string()
            .regex(
              /^\d+@[a-zA-Z0-9._-]*(@.+)?$/,
              'a peer is <dcId>@<topicPrefix>[@<broker>;<broker>…]',
            ),
        )
        .default([])
        .describe(
          'Peer datacenters this one sends its own records to, comma separated: <dcId>@<topicPrefix> on the same brokers, or <dcId>@<topicPrefix>@<host:port>;<host:port> on their own',
        ),
      maxBatchRecords: int(2000, 'Max records forwarded to a peer in one produce', 1),
    })
    .prefault({}),
  maintainer: z
    .object({
      port: port(
        8082,
        'Read API port of a maintainer running without a batcher in its process (with one, the batcher serves the reads)',
      ),
      segmentBytes: int(
        64 * 1024 * 1024,
        'flstore segment size (bytes): a full segment is sealed and its index file written; a bigger record gets a segment of its own',
        4096,
        0xffffffff,
      ),
      fsync: z
        .enum(['always', 'interval', 'never'])
        .default('always')
        .describe(
          'When flstore writes reach the disk: after every batch, every fsyncIntervalMs, or when the OS decides (a lost tail is re-read from Kafka)',
        ),
      fsyncIntervalMs: int(1000, 'fsync period when maintainer.fsync is interval (ms)', 1),
    })
    .prefault({}),
});

export type ChariotsConfig = z.infer<typeof configSchema>;
