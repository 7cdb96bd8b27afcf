/**
 * Example messages that `npm run send` publishes, per handler: a routing key (the consistent-hash key) and a body.
 */
export interface Sample {
  readonly key: string;
  readonly body: unknown;
  /** Bytes to send instead of JSON.stringify(body) (for invalid examples). */
  readonly raw?: Buffer;
}

export type SampleFactory = (index: number, runId: string) => Sample;

const SKUS = 20;

export const samples: Readonly<Record<string, SampleFactory>> = {
  orders: (index, runId) => {
    const orderId = `${runId}-${index}`;
    return { key: orderId, body: { orderId, sku: `sku-${index % SKUS}`, quantity: 1 + (index % 5) } };
  },
};

/** Invalid example messages (`npm run send -- --invalid N`): each should end up in `<queue>.dlq` with its reason. */
export const invalidSamples: Readonly<Record<string, readonly SampleFactory[]>> = {
  orders: [
    (index, runId) => ({ key: `${runId}-bad-${index}`, body: null, raw: Buffer.from(`{"orderId": "${runId}-bad-${index}", oops`) }),
    (index, runId) => ({ key: `${runId}-bad-${index}`, body: { orderId: `${runId}-bad-${index}`, quantity: 1 } }),
    (index, runId) => ({ key: `${runId}-bad-${index}`, body: { orderId: `${runId}-bad-${index}`, sku: 'sku-1', quantity: -2 } }),
  ],
};
