/** Types of chain.js (plain JS: the browser loads it as is). */
export interface ChainRecord {
  lid: number;
  toid: number;
  host: number;
  id: string;
  seed: string;
  prehash: string[];
  parent: string[];
  prehost?: number;
  pretoid?: number;
  tags: Record<string, string>;
}
export interface ChainEdge {
  from: number;
  to: number;
  kind: 'prehash' | 'parent' | 'toid';
}
export function hashTag(key: string, value: string): string;
export function buildChain(records: ChainRecord[]): {
  nodes: ChainRecord[];
  edges: ChainEdge[];
  missing: Array<{ to: number; kind: ChainEdge['kind']; what: string }>;
};
