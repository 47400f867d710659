/**
 * What several datacenters share below the stages: parsing a peer (`<dcId>=<brokers>`), the
 * sender's progress records, and the lag view the admin API serves. The sender stage and
 * the admin API both build on it, so neither has to reach into the other.
 */
export { ReplicationLagView, type ReplicationPeerLag } from './lag-view';
export { parsePeer, type Peer } from './peers';
export { encodeProgress, parseProgress, peerLag, progressAfter, ownToidAt } from './progress';
