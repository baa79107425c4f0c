/** Public surface of detection/alarms: the pure ISA-18.2 alarm layer between the detector bank and case intake. */
export * from './intake.ts';
export * from './kpi.ts';
export * from './machine.ts';
export * from './manager.ts';
export * from './manager-reference.ts';
export * from './tuning.ts';
