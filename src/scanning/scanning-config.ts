import { z } from 'zod';
import { DETECTOR_IDS, type Detector } from './detectors.js';
import { KNOWN_VALUE_DETECTOR, SCAN_LIMIT_DETECTOR } from './find-secrets.js';
import { unsafePatternReason } from './pattern-safety.js';

/** What to do when a scan finds a secret: replace it, refuse the whole message, or not scan. */
export const SCAN_MODES = ['redact', 'block', 'off'] as const;
export type ScanMode = (typeof SCAN_MODES)[number];

// Detector ids a configured pattern may not take: the built-ins and the scanner's own.
const RESERVED_IDS = new Set([...DETECTOR_IDS, KNOWN_VALUE_DETECTOR, SCAN_LIMIT_DETECTOR]);

export const MAX_EXTRA_PATTERN_LENGTH = 512;

// Strings a pattern is run over to see whether it matches empty text somewhere (`x*`, `\b`,
// `(?=a)`): such a match would redact nothing and, in block mode, refuse everything.
const EMPTY_MATCH_PROBES = ['', 'a', 'ab AB 01 _-.:=/+"\'\n\t{}[]()<>@#$%^&*!?,;~`|\\ é€😀 the end'];

/**
 * Why a configured pattern is refused, or null when it is acceptable: it must compile, stay
 * within {@link MAX_EXTRA_PATTERN_LENGTH}, pass the backtracking check and never match empty
 * text. A named group `secret`, when present, is what gets reported and redacted.
 */
export function extraPatternProblem(source: string): string | null {
  if (source.length === 0 || source.length > MAX_EXTRA_PATTERN_LENGTH) return `must be 1 to ${MAX_EXTRA_PATTERN_LENGTH} characters`;
  let re: RegExp;
  try {
    re = new RegExp(source, 'dg');
  } catch {
    // The engine's message quotes the pattern; the reason alone is enough here.
    return 'does not compile as a JavaScript regular expression';
  }
  const unsafe = unsafePatternReason(source);
  if (unsafe) return unsafe;
  for (const probe of EMPTY_MATCH_PROBES) {
    re.lastIndex = 0;
    for (let m = re.exec(probe); m !== null; m = re.exec(probe)) {
      const secret = m.indices?.groups?.['secret'];
      if (m[0].length === 0 || (secret !== undefined && secret[0] === secret[1])) return 'matches the empty string';
      if (re.lastIndex === m.index) re.lastIndex++;
    }
  }
  return null;
}

export const ExtraPatternSchema = z
  .object({
    /** Names findings and markers: `[REDACTED:<id>]`. */
    id: z
      .string()
      .regex(/^[a-z0-9][a-z0-9-]{0,62}$/, 'lower-case letters, digits and dashes, at most 63')
      .refine((id) => !RESERVED_IDS.has(id), 'is the id of a built-in detector'),
    /** A JavaScript regular expression source, no flags: case matters, `.` skips line ends. */
    regex: z.string().superRefine((source, ctx) => {
      const problem = extraPatternProblem(source);
      if (problem) ctx.addIssue({ code: 'custom', message: problem });
    }),
  })
  .strict();
export type ExtraPattern = z.infer<typeof ExtraPatternSchema>;

/**
 * The `scanning` part of the configuration. Unknown keys and unknown detector ids are errors:
 * a typo must not silently switch a detector back on or off.
 *
 * Embed it with `ScanningConfigSchema.prefault({})` (zod 4), so that an absent section gets
 * the inner defaults; `.default({})` would skip them.
 */
export const ScanningConfigSchema = z
  .object({
    /** Tool and HTTP responses on their way back to the agent. */
    results: z.enum(SCAN_MODES).default('redact'),
    /** An agent's outgoing tool arguments and request bodies: a credential there is exfiltration. */
    arguments: z.enum(SCAN_MODES).default('block'),
    /** Built-in detectors to switch off (known values and scan limits cannot be). */
    disabled: z.array(z.enum(DETECTOR_IDS as [string, ...string[]])).max(DETECTOR_IDS.length).default([]),
    extraPatterns: z
      .array(ExtraPatternSchema)
      .max(100)
      .default([])
      .refine((list) => new Set(list.map((p) => p.id)).size === list.length, 'extra pattern ids must be unique'),
  })
  .strict();
export type ScanningConfig = z.infer<typeof ScanningConfigSchema>;

/** Turns a validated extra pattern into a detector, ranked after the built-ins. */
export function extraPatternDetector(p: ExtraPattern): Detector {
  const problem = extraPatternProblem(p.regex);
  if (problem) throw new TypeError(`extra pattern ${p.id} was not validated: ${problem}`);
  const grouped = p.regex.includes('(?<secret>');
  return {
    id: p.id,
    description: 'configured pattern',
    confidence: 'medium',
    regex: new RegExp(p.regex, grouped ? 'dg' : 'g'),
  };
}
