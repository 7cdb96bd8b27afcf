/** Example messages for `warren send`: the types of a handler's `samples` module (HandlerConfig.samples). */

/** One example message: its routing key (the consistent-hash key, also its message id) and its body. */
export interface Sample {
  readonly key: string;
  /** JSON-encoded when sent. */
  readonly body: unknown;
  /** Bytes to send instead of `JSON.stringify(body)` (for invalid examples). */
  readonly raw?: Buffer;
}

/** Makes the `index`-th example message of a `warren send` run (`runId` is unique per run). */
export type SampleFactory = (index: number, runId: string) => Sample;

/** What a `samples` module exports. */
export interface SamplesModule {
  readonly sample: SampleFactory;
  /** Invalid examples for `warren send --invalid N`, used in turn. @default none */
  readonly invalidSamples?: readonly SampleFactory[];
}
