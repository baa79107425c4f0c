export { type ActionRequestPreview, type ActionsApiDeps, createActionsApi, replayRoles } from './actions-api.tsx';
export { type AlarmCommands, type AlarmsApiDeps, createAlarmsApi } from './alarms-api.ts';
export { createServer, type ServerDeps } from './app.tsx';
export { type AuthVariables, SESSION_COOKIE } from './auth.ts';
export { type CloseOutDeps, createCloseOutApp } from './close-out.tsx';
export {
  approveChange,
  approverRoles,
  type DecisionCommand,
  type DecisionDeps,
  decide,
  decisionRefusal,
  draftRequirement,
  registryPolicy,
} from './decisions.ts';
export { DraftEdit, draftDiff, editDraft, editorRoles } from './edits.ts';
export { createEvalsApi, type EvalsApiDeps, evalReaderRoles } from './evals-api.ts';
export { createKnowledgeApi, type KnowledgeApiDeps, knowledgeEditorRoles } from './kb-api.ts';
export { createOidcApp, grantsFromClaims, type OidcDeps, type OidcSettings } from './oidc.ts';
export { type AlarmsPageDeps, createAlarmsPage } from './pages/alarms.tsx';
export { type AuditPageDeps, auditReaderRoles, createAuditPages } from './pages/audit.tsx';
export { createEvalPages } from './pages/evals.tsx';
export { createKnowledgePages } from './pages/kb.tsx';
export { type SecondaryPagesDeps, secondaryPageMounts } from './secondary-mounts.ts';
export { createSigningApp, type SigningDeps } from './signing.tsx';
