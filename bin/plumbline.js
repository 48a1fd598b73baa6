#!/usr/bin/env node
// Runs the compiled CLI (build with `npm run build`).
import { main } from '../dist/cli/main.js';

process.exitCode = await main(process.argv.slice(2));
