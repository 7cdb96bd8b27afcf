import { defineConfig } from 'warren/config';

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
      // An order sent with reply_to is answered (functions/orders.ts)
      replies: true,
      // What `warren send` publishes (functions/samples.ts)
      samples: 'functions/samples.ts',
    },
  ],
});
