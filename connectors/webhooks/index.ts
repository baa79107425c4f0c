export { SIGNATURE_HEADER, signWebhook, type VerifyResult, verifyWebhook } from './signature.ts';
export { createWebhookAdapter, type WebhookAdapter, type WebhookEnvelope } from './webhook-adapter.ts';
