/**
 * The CDK entry (`npx cdk synth`, `npx cdk deploy`): the Warren stack for the handlers of warren.config.ts. It writes
 * warren.lock.json when a synth places a new handler; commit it with the change.
 */
import { synthWarrenApp } from 'warren/cdk';

await synthWarrenApp();
