export * from './ids.js';
export * from './agent.js';
export * from './task.js';
export * from './person.js';
export * from './revocation.js';
export * from './event.js';
export * from './signing-key.js';
export * from './approval.js';
