import type { Request } from 'autocannon';
import type { Fixture } from './fixture.js';

export const SCENARIOS = {
  product: 'GET /products/{id}',
  'product-pages': 'GET /products?limit=50 price range, sorted, following Link',
  customer: 'GET /customers/{id} (own, bearer)',
  order: 'GET /orders/{id} with items (own, bearer)',
  'create-order': 'POST /orders, 2 items (bearer)',
} as const;
export type ScenarioName = keyof typeof SCENARIOS;
export const SCENARIO_NAMES = Object.keys(SCENARIOS) as ScenarioName[];
export const READ_SCENARIOS: ScenarioName[] = ['product', 'product-pages', 'customer', 'order'];

/** Pages a simulated shopper reads of one price range before starting over with another. */
const MAX_PAGES = 10;

const pick = <T>(list: T[]): T => list[Math.floor(Math.random() * list.length)]!;
const between = (min: number, max: number) => min + Math.floor(Math.random() * (max - min + 1));
const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

/** A first page: a price range holding 1–3 % of the catalogue somewhere between its 5th and 95th percentile. */
export function firstPagePath(fixture: Fixture): string {
  const from = between(5, 90);
  const minPrice = fixture.priceQuantiles[from]!;
  const maxPrice = fixture.priceQuantiles[from + between(1, 3)]!;
  const sort = pick(['price', '-price']);
  return `/products?limit=50&min_price=${minPrice}&max_price=${maxPrice}&sort=${sort}`;
}

type PageState = { next?: string | null };

function linkTarget(headers: Record<string, unknown>): string | null {
  for (const [name, value] of Object.entries(headers)) {
    if (name.toLowerCase() === 'link' && typeof value === 'string')
      return /^<([^>]+)>;\s*rel="next"/.exec(value)?.[1] ?? null;
  }
  return null;
}

/**
 * The request list for autocannon. Each connection walks it in a loop, and its context lives for one pass, so
 * the list-pages scenario is a pass of up to MAX_PAGES requests: the first page, then each Link in turn; a
 * missing Link (the last page) ends the pass early by answering null.
 */
export function requestsFor(name: ScenarioName, fixture: Fixture): Request[] {
  switch (name) {
    case 'product':
      return [{ setupRequest: (req) => ({ ...req, path: `/products/${pick(fixture.productIds)}` }) }];
    case 'product-pages': {
      const onResponse = (_status: number, _body: string, context: object, headers: Request['headers']) => {
        (context as PageState).next = linkTarget(headers ?? {});
      };
      const first: Request = { setupRequest: (req) => ({ ...req, path: firstPagePath(fixture) }), onResponse };
      const next: Request = {
        setupRequest: (req, context) => {
          const path = (context as PageState).next;
          return (path ? { ...req, path } : null) as Request;
        },
        onResponse,
      };
      return [first, ...Array.from({ length: MAX_PAGES - 1 }, () => next)];
    }
    case 'customer':
      return [
        {
          setupRequest: (req) => {
            const customer = pick(fixture.customers);
            return { ...req, path: `/customers/${customer.id}`, headers: bearer(customer.token) };
          },
        },
      ];
    case 'order':
      return [
        {
          setupRequest: (req) => {
            const order = pick(fixture.orders);
            return { ...req, path: `/orders/${order.id}`, headers: bearer(order.token) };
          },
        },
      ];
    case 'create-order':
      return [
        {
          setupRequest: (req) => {
            const customer = pick(fixture.customers);
            const first = pick(fixture.orderableIds);
            let second = pick(fixture.orderableIds);
            while (second === first) second = pick(fixture.orderableIds);
            const body = JSON.stringify({
              items: [
                { product_id: first, quantity: between(1, 3) },
                { product_id: second, quantity: between(1, 3) },
              ],
              shipping_contact_id: customer.contactId,
            });
            return {
              ...req,
              method: 'POST',
              path: '/orders',
              headers: { ...bearer(customer.token), 'content-type': 'application/json' },
              body,
            };
          },
        },
      ];
  }
}
