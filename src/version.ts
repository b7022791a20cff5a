import { readFileSync } from 'node:fs';

/** Warden's version, from its package.json (the one source of it). */
export const VERSION: string = (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;
