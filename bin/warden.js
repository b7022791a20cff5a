#!/usr/bin/env node
// Thin launcher: the CLI is written in TypeScript and compiled to dist/ by `npm install` (prepare).
// V8 flags first (see src/v8-flags.ts), before any other module is loaded and optimized.
import('../dist/src/v8-flags.js')
  .then(() => import('../dist/src/cli/main.js')).catch((err) => {
  if (err && err.code === 'ERR_MODULE_NOT_FOUND') {
    process.stderr.write('warden: not built yet; run `npm install` (or `npm run build`) first\n');
    process.exit(1);
  }
  throw err;
});
