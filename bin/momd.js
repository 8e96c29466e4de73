#!/usr/bin/env node
// Thin shim: the command is compiled from src/cli/momd.ts by `npm run build`.
import '../dist/src/cli/momd.js';
