import { defineConfig } from './config/config.js';
import { ENV } from './runtime/env.js';

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
      // `orders.events` unless WARREN_EVENTS_EXCHANGE names another (the workers inherit the variable)
      publishes: [{ exchange: process.env[ENV.eventsExchange] || 'orders.events', type: 'topic' }],
      // An order sent with reply_to is answered (functions/orders.ts; docs/request-and-reply.md)
      replies: true,
    },
  ],
});
