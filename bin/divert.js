#!/usr/bin/env node
// Thin launcher so `npx divert` works in the checkout and when installed.
import '../dist/src/cli/main.js';
