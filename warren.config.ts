import { defineConfig } from './runtime/config.js';

export default defineConfig({
  migrations: ['functions/schema.sql'],
  handlers: [
    {
      name: 'orders',
      entry: 'functions/orders.ts',
      queue: 'orders',
      vhost: '/',
      batchSize: 50,
      concurrency: 4,
      publishes: [{ exchange: 'orders.events', type: 'topic' }],
    },
  ],
});
