export * from './blocks.ts';
export { renderControlChart } from './chart.ts';
export { createSlackNotifier, type SlackNotifier, threadNote } from './notifier.ts';
export { crc32, encodePng, Raster } from './png.ts';
export type * from './ports.ts';
export { HonoReceiver, SLACK_WINDOW_SECONDS, signSlackRequest } from './receiver.ts';
export { loadSlackRouting, routeCase, SlackRouting } from './routing.ts';
export { createSlackSender, SlackCallError, type SlackSender } from './sender.ts';
export { createSlackApp, defaultApproverRoles, type SlackApp, type SlackOptions } from './slack-app.ts';
