export {
  acquireBroker,
  type AcquiredBroker,
  type AcquireOptions,
  type BrokerKind,
} from './acquire';
