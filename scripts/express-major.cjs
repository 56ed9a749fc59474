'use strict';
// Chooses which Express major the tests run against: `node --require scripts/express-major.cjs`
// (or mocha's `--require`) with PROFILEGATE_EXPRESS=4 makes every `require('express')` and
// `require('express/…')` of the process resolve to the `express4` alias (npm:express@4) instead of
// the repo's Express 5, so the middleware's compiled code and the tests' own imports share one
// Express 4, as in a host app that has Express 4 installed. With PROFILEGATE_EXPRESS unset or 5
// it does nothing. While it redirects, it also adds itself to NODE_OPTIONS, so a child node
// process that inherits the environment (a test's spawned host app) gets the same Express.
const Module = require('node:module');
const path = require('node:path');

const major = process.env.PROFILEGATE_EXPRESS ?? '';
if (major !== '' && major !== '4' && major !== '5') {
  throw new Error(
    `PROFILEGATE_EXPRESS=${major} is not an Express major this repo tests; use 4 or 5 (or leave it unset)`,
  );
}

if (major === '4') {
  let express4;
  try {
    express4 = path.dirname(require.resolve('express4/package.json'));
  } catch {
    throw new Error('PROFILEGATE_EXPRESS=4 needs the express4 alias (npm:express@4); run npm install');
  }
  const resolveFilename = Module._resolveFilename;
  Module._resolveFilename = function (request, parent, isMain, options) {
    if (request === 'express') request = express4;
    else if (request.startsWith('express/')) request = path.join(express4, request.slice('express/'.length));
    return resolveFilename.call(this, request, parent, isMain, options);
  };
  const self = JSON.stringify(module.filename);
  const nodeOptions = process.env.NODE_OPTIONS ?? '';
  if (!nodeOptions.includes(self)) process.env.NODE_OPTIONS = `${nodeOptions} --require ${self}`.trim();
}
