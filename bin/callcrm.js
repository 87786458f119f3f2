#!/usr/bin/env node
// The CLI entry: runs the TypeScript sources through tsx (a runtime dependency), no build step.
import { register } from 'tsx/esm/api';

register();
await import('../src/cli/index.ts');
