/**
 * Example messages for the orders handler, published by `warren send` (`npm run send` at Warren's root): the config
 * names this module under the handler's `samples`.
 */
import type { SampleFactory } from 'warren/config';

const SKUS = 20;

/** The `index`-th valid order of a run: keyed (consistent hash and message id) by its order id. */
export const sample: SampleFactory = (index, runId) => {
  const orderId = `${runId}-${index}`;
  return { key: orderId, body: { orderId, sku: `sku-${index % SKUS}`, quantity: 1 + (index % 5) } };
};

/** Invalid orders (`warren send --invalid N`): each should end up in `orders.dlq` with its reason. */
export const invalidSamples: readonly SampleFactory[] = [
  (index, runId) => ({ key: `${runId}-bad-${index}`, body: null, raw: Buffer.from(`{"orderId": "${runId}-bad-${index}", oops`) }),
  (index, runId) => ({ key: `${runId}-bad-${index}`, body: { orderId: `${runId}-bad-${index}`, quantity: 1 } }),
  (index, runId) => ({ key: `${runId}-bad-${index}`, body: { orderId: `${runId}-bad-${index}`, sku: 'sku-1', quantity: -2 } }),
];
