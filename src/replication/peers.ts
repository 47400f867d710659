import { ConfigError } from '../errors';

export interface Peer {
  dcId: number;
  topicPrefix: string;
  /** Empty = the same cluster as this datacenter. */
  brokers: string[];
}

/** `<dcId>@<topicPrefix>[@<host:port>;<host:port>…]`, e.g. `2@dc2.` or `3@dc3.@kafka-3:9092`. */
export function parsePeer(spec: string, localDcId: number): Peer {
  const [id, prefix, brokers] = spec.split('@');
  const dcId = Number(id);
  if (!Number.isInteger(dcId) || dcId < 1 || dcId > 65535)
    throw new ConfigError(`replication peer "${spec}": bad datacenter id`);
  if (dcId === localDcId)
    throw new ConfigError(`replication peer "${spec}" is this datacenter (${localDcId})`);
  return {
    dcId,
    topicPrefix: prefix || `dc${dcId}.`,
    brokers: brokers ? brokers.split(';').filter(Boolean) : [],
  };
}
