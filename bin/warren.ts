#!/usr/bin/env -S npx tsx
/** CDK entry: `npx cdk synth` / `npx cdk deploy` (the `warren:*` context keys are in README.md, "Deploy to AWS"). */
import { createWarrenApp } from '../lib/app.js';

const { app } = await createWarrenApp();
app.synth();
