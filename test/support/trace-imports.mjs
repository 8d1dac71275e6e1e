// node --import ./test/support/trace-imports.mjs …: prints every module the
// ESM loader resolves, one "LOADED <url>" line on stderr (test/commands/lazy-loading).
import { register } from 'node:module';

register(
  'data:text/javascript,' +
    encodeURIComponent(
      'export async function resolve(s, c, next) { const r = await next(s, c); process.stderr.write(`LOADED ${r.url}\\n`); return r; }',
    ),
);
