import type { Section } from '../section.js';
import { audit } from './audit.js';
import { authenticate } from './authenticate.js';
import { gateway } from './gateway.js';
import { policy } from './policy.js';
import { sandbox } from './sandbox.js';
import { scanning } from './scanning.js';
import { soak } from './soak.js';
import { tokens } from './tokens.js';

/**
 * Every bench section, in the order they run. Later issues append theirs (gateway, policy,
 * audit). Each section starts its own Warden, so any one can run alone with `--only`.
 */
export const SECTIONS: readonly Section[] = [tokens, authenticate, policy, scanning, gateway, sandbox, audit, soak];
