export { auditLines, auditRows, exportJsonl, type JsonlOptions } from './jsonl.js';
export { anyValue, otlpRequest, toOtlpLogRecord, OTLP_SCOPE, OTLP_SEVERITY, type ExportLogsServiceRequest, type OtlpAnyValue, type OtlpKeyValue, type OtlpLogRecord, type OtlpOptions, type OtlpResourceOptions } from './otlp.js';
export { toOcsf, OCSF_MAPPING, OCSF_OUTCOME, OCSF_VERSION, type OcsfEvent, type OcsfOptions } from './ocsf.js';
export { AuditShipper, type AuditShipperOptions, type ExportErrorCode, type ResolveSecret, type ShipperLogger, type ShipperStatus } from './shipper.js';
