'use strict';
// The compiled prefilter (see src/native_scan.c). Loading throws when it was not built (no
// compiler at install, or an unsupported OS): @profilegate/client then scans in JavaScript.
module.exports = require('./build/Release/native_scan.node');
