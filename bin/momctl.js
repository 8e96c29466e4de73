#!/usr/bin/env node
// Thin shim: the command is compiled from src/cli/momctl.ts by `npm run build`.
import '../dist/src/cli/momctl.js';
