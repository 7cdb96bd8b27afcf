/**
 * Example messages that `npm run send` publishes, per handler: a routing key (the consistent-hash key) and a body.
 */
export interface Sample {
  readonly key: string;
  readonly body: unknown;
}

export type SampleFactory = (index: number, runId: string) => Sample;

const SKUS = 20;

export const samples: Readonly<Record<string, SampleFactory>> = {
  orders: (index, runId) => {
    const orderId = `${runId}-${index}`;
    return { key: orderId, body: { orderId, sku: `sku-${index % SKUS}`, quantity: 1 + (index % 5) } };
  },
};
