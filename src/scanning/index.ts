/**
 * Secret detection and redaction for what passes through the gateway: responses on their way
 * to an agent (the inspect stage) and an agent's outgoing arguments.
 */
export { DETECTORS, DETECTOR_IDS, type Detector, type MatchContext } from './detectors.js';
export { KNOWN_VALUE_DETECTOR, SCAN_LIMIT_DETECTOR, redactionMarker } from './find-secrets.js';
export { compileKnownValues, isKnownValues, MIN_KNOWN_VALUE_LENGTH, type KnownValues, type KnownValueEncoding } from './known-values.js';
export {
  createScanner,
  createScanners,
  DEFAULT_SCAN_LIMITS,
  type Finding,
  type ScanAction,
  type ScanLimits,
  type ScannerOptions,
  type Scanner,
  type ScanResult,
  type TextScanResult,
} from './scanner.js';
export { ScanningConfigSchema, ExtraPatternSchema, SCAN_MODES, type ScanMode, type ScanningConfig, type ExtraPattern } from './scanning-config.js';
export { secretBlockedError, findingSummary, type ScanDirection } from './blocked-error.js';
