export * from './contacts.js';
export * from './customers.js';
export * from './orders.js';
export * from './products.js';
export * from './accounts.js';
export * from './idempotency.js';
export * from './inventory.js';
export * from './payments.js';
