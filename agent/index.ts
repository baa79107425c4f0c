export * from './citations.ts';
export * from './offline-drafter.ts';
export * from './taxonomy.ts';
export * from './troubleshooting.ts';
