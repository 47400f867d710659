import { assertKafkajsPatched } from './kafkajs-patch';

it('the installed kafkajs carries patches/kafkajs+2.2.4.patch (read_committed hides aborted data)', () => {
  expect(() => assertKafkajsPatched()).not.toThrow();
});
