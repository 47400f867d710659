/**
 * The metrics every Chariots process exports for its stages (docs/operations.md lists them):
 * the unit test checks the registry declares them, the admin integration test that a running
 * process serves them, so a rename is caught in both from one list.
 */
export const STAGE_METRICS = [
  'chariots_records_in_total',
  'chariots_records_out_total',
  'chariots_deferred_records',
  'chariots_dead_letters_total',
  'chariots_log_head_lid',
  'chariots_consumer_lag',
  'chariots_append_latency_seconds',
  'chariots_transaction_seconds',
  'chariots_produce_errors_total',
] as const;
