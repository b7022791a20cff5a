export { Warden, initialize, openStore, type WardenOptions } from './warden.js';
export { WardenError } from './errors/warden-error.js';
export { ERRORS, type ErrorCode } from './errors/registry.js';
export type { Store } from './store/store.js';
export { verifyWebhookSignature, signWebhook } from './approvals/webhook-signature.js';
export type { WebhookPayload, WebhookEvent } from './approvals/webhooks.js';
