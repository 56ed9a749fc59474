#!/usr/bin/env node
// The profilegate command; the code is compiled to dist/ by `npm run build` (run by `npm ci`).
require('../dist/src/main.js');
