import type { Config } from './config.js';
import type { Db } from './db/client.js';
import { createSessionsService } from './modules/accounts/sessions.service.js';
import { createAuthService } from './modules/auth/auth.service.js';
import { createLoginLimiter } from './modules/auth/login-limiter.js';
import { createContactsService } from './modules/contacts/contacts.service.js';
import { createCustomersService } from './modules/customers/customers.service.js';
import { createIdempotencyService } from './modules/idempotency/idempotency.service.js';
import { createInventoryLedger } from './modules/inventory/inventory.service.js';
import { createOrdersService } from './modules/orders/orders.service.js';
import { moneyByOrder } from './modules/payments/payments.repository.js';
import { createPaymentsService } from './modules/payments/payments.service.js';
import { manualProvider } from './modules/payments/providers/manual-provider.js';
import type { PaymentProvider } from './modules/payments/providers/provider.js';
import { createStripeProvider } from './modules/payments/providers/stripe-provider.js';
import { createTestProvider } from './modules/payments/providers/test-provider.js';
import { createProductCache } from './modules/products/product-cache.js';
import { createReturnsService } from './modules/returns/returns.service.js';
import { createShipmentsService } from './modules/shipments/shipments.service.js';
import { createProductsService } from './modules/products/products.service.js';
import { createStockService } from './modules/products/stock.service.js';
import { createStaffService } from './modules/staff/staff.service.js';

/** What the services tell the outside about the business as it happens (the app counts it in /metrics). */
export type ServiceEvents = { paymentOutcome?: (status: string) => void };

/** Wires the services together: the app, the seed and the admin tools all get them from here. */
export function createServices(
  db: Db,
  config: Config,
  productCache = createProductCache({ enabled: false }),
  events: ServiceEvents = {},
) {
  const sessions = createSessionsService({ db, ttlSeconds: config.tokenTtlSeconds });
  const customers = createCustomersService({ db, sessions });
  const staff = createStaffService({ db, sessions });
  const auth = createAuthService({ customers, staff, sessions, limiter: createLoginLimiter(db) });
  const contacts = createContactsService({ db, customers });
  const ledger = createInventoryLedger({ db });
  const products = createProductsService({ db, storeCurrency: config.storeCurrency, ledger, cache: productCache });
  const stock = createStockService({ db, ledger, cache: productCache });
  const orders = createOrdersService({ db, customers, contacts, stock, ledger, money: moneyByOrder });
  const providers = new Map<string, PaymentProvider>([
    ['test', createTestProvider(config.paymentWebhookSecret)],
    ['manual', manualProvider],
  ]);
  if (config.stripe) providers.set('stripe', createStripeProvider(config.stripe));
  const payments = createPaymentsService({ db, orders, providers, onOutcome: events.paymentOutcome });
  orders.attachMoney({
    unwind: (tx, order) => payments.unwind(tx, order),
    recordManualPayment: (tx, order) => payments.recordManualPayment(tx, order),
  });
  const shipments = createShipmentsService({ db, orders });
  orders.attachFulfilment(shipments.hooks);
  const returns = createReturnsService({
    db,
    orders,
    shipments,
    stock,
    ledger,
    payments,
    returnWindowDays: config.returnWindowDays,
  });
  const idempotency = createIdempotencyService({ db });
  return {
    sessions,
    customers,
    staff,
    auth,
    contacts,
    ledger,
    products,
    stock,
    orders,
    payments,
    providers,
    shipments,
    returns,
    idempotency,
  };
}

export type Services = ReturnType<typeof createServices>;
