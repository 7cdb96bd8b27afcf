#!/usr/bin/env -S npx tsx
/** CDK entry: `npx cdk synth` / `npx cdk deploy` (see docs/deploy.md for the `warren:*` context keys). */
import { createWarrenApp } from '../lib/app.js';

const { app } = await createWarrenApp();
app.synth();
