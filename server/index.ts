export { type ActionRequestPreview, type ActionsApiDeps, createActionsApi, replayRoles } from './actions-api.tsx';
export { type AlarmCommands, type AlarmsApiDeps, createAlarmsApi } from './alarms-api.ts';
export { createServer, type ServerDeps } from './app.tsx';
export { type AuthVariables, SESSION_COOKIE } from './auth.ts';
export { approverRoles, type DecisionCommand, type DecisionDeps, decide } from './decisions.ts';
export { DraftEdit, draftDiff, editDraft, editorRoles } from './edits.ts';
export { createSigningApp, type SigningDeps } from './signing.tsx';
