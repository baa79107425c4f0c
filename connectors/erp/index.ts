export {
  ActionRoute,
  ActionsConfig,
  AuthConfig,
  EndpointConfig,
  loadActionsConfig,
  parseActionsConfig,
  WebhookTarget,
} from './actions-config.ts';
export { type AuthProvider, type Credentials, createAuthProvider } from './auth.ts';
export { type CircuitBreakers, type CircuitState, createCircuitBreakers } from './circuit-breaker.ts';
export {
  type ActionDelivery,
  type DeliverableAction,
  type DeliveryError,
  type DeliveryReceipt,
  deliveryError,
  parseRetryAfter,
  type RequestPreview,
} from './delivery.ts';
export { noFaults, parseFaultSpec, SandboxFaults, type SandboxFaultsInput } from './faults.ts';
export { createRateLimiter, type RateLimiter } from './rate-limit.ts';
export { createRestAdapter, type RestAdapter } from './rest-adapter.ts';
export { createErpClient, type ErpClient, type ErpClientOptions, type ErpResponse } from './rest-client.ts';
export { type ActionRouter, type ActionRouterOptions, createActionRouter } from './router.ts';
export { createSandboxErpApp, type SandboxEffectsPort, type SandboxErpOptions } from './sandbox-app.ts';
export { pick, render, renderUrl, TemplateError } from './template.ts';
