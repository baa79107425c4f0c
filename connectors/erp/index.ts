export { createErpClient, type ErpClient, type ErpClientOptions, type ErpResponse } from './rest-client.ts';
export { createSandboxErpApp, type SandboxEffectsPort } from './sandbox-app.ts';
