import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp, type App } from '../../app.js';
import { defineConfig } from '../../config.js';
import { createTestApp } from '../../../test/app.js';
import {
  aContact,
  aCustomer,
  anOrder,
  aProduct,
  aSignedInCustomer,
  contactFields,
  customerFields,
  expectStatus,
  type Contact,
  type Customer,
  type Order,
  type Product,
} from '../../../test/factories.js';
import { anonymous, logIn, send, staff, TEST_ADMIN, type Caller } from '../../../test/http.js';

type Json = Record<string, unknown>;
type Problem = { status: number; code: string; errors?: { field: string; message: string }[]; request_id: string };
type StaffMember = { id: number; username: string; email_id: string; role: 'admin'; disabled: boolean };
type Token = { access_token: string; token_type: string; expires_in: number };

const MISSING_ID = 2_147_483_647;
const PASSWORD = 'first password 1';
const NEW_PASSWORD = 'second password 2';

const bearer = (token: string): Caller => ({ name: 'token', headers: { authorization: `Bearer ${token}` } });
const withoutRequestId = (response: LightMyRequestResponse) => {
  const { request_id: _requestId, ...rest } = response.json<Problem>();
  return rest;
};

/** Asserts a problem+json answer with the given status and returns its body. */
function problem(response: LightMyRequestResponse, status: number): Problem {
  expect(response.statusCode, response.body).toBe(status);
  expect(response.headers['content-type']).toMatch(/^application\/problem\+json/);
  const body = response.json<Problem>();
  expect(body.status).toBe(status);
  if (status === 401) expect(response.headers['www-authenticate']).toBe('Bearer');
  return body;
}
const fieldsOf = (body: Problem) => (body.errors ?? []).map((e) => e.field);

// Every failed login in the shared app comes from its own address, so the per-address limit never trips there.
let nextAddress = 0;
const freshAddress = () => {
  nextAddress += 1;
  return `10.${(nextAddress >> 16) & 255}.${(nextAddress >> 8) & 255}.${nextAddress & 255}`;
};

function attemptLogin(app: App, body: Json, remoteAddress: string = freshAddress(), headers: Json = {}) {
  return app.inject({
    method: 'POST',
    url: '/auth/login',
    payload: body,
    remoteAddress,
    headers: headers as Record<string, string>,
  });
}

async function tokenFor(app: App, body: Json): Promise<string> {
  const response = await attemptLogin(app, body);
  expect(response.statusCode, response.body).toBe(200);
  return response.json<Token>().access_token;
}

/** The status GET /me answers for a token: 200 while it lives, 401 once it has ended. */
const meStatus = async (app: App, token: string) => (await send(app, bearer(token), 'GET', '/me')).statusCode;

describe('authentication and ownership', () => {
  let app: App;
  let admin: Caller;
  let adminId: number;
  let product: Product;
  beforeAll(async () => {
    app = await createTestApp();
    admin = await staff(app);
    adminId = (await expectStatus<StaffMember>(app, admin, 200, 'GET', '/me')).id;
    product = await aProduct(app, admin, { stock: 1000 });
  });
  afterAll(async () => app.close());

  /** A signed-up customer (not logged in) with a known password. */
  async function aCustomerWithPassword(): Promise<Customer> {
    return aCustomer(app, anonymous, { password: PASSWORD });
  }

  async function aStaffMember(): Promise<StaffMember> {
    const { username, email_id } = customerFields();
    return expectStatus<StaffMember>(app, admin, 201, 'POST', '/staff', {
      username: `staff_${username}`,
      email_id: `staff_${email_id}`,
      password: PASSWORD,
    });
  }

  /** Every item of a paged list, following the Link header. */
  async function allPages<T>(caller: Caller, url: string): Promise<T[]> {
    const items: T[] = [];
    let next: string | undefined = url;
    for (let page = 0; next && page < 50; page++) {
      const response = await send(app, caller, 'GET', next);
      expect(response.statusCode, response.body).toBe(200);
      items.push(...response.json<T[]>());
      const link = response.headers.link as string | undefined;
      next = link ? /^<([^>]+)>; rel="next"$/.exec(link)?.[1] : undefined;
    }
    return items;
  }

  describe('POST /auth/login', () => {
    it('exchanges a username and password for a bearer token that works', async () => {
      const customer = await aCustomerWithPassword();
      const response = await attemptLogin(app, { username: customer.username, password: PASSWORD });
      expect(response.statusCode, response.body).toBe(200);
      const body = response.json<Token>();
      expect(body).toEqual({ access_token: expect.any(String), token_type: 'Bearer', expires_in: 900 });
      expect(body.access_token.length).toBeGreaterThan(20);
      const me = await expectStatus<Json>(app, bearer(body.access_token), 200, 'GET', '/me');
      expect(me).toMatchObject({ id: customer.id, role: 'customer' });
    });

    it('accepts email_id instead of username, in any case', async () => {
      const customer = await aCustomerWithPassword();
      const token = await tokenFor(app, { email_id: customer.email_id, password: PASSWORD });
      expect(await meStatus(app, token)).toBe(200);
      const upper = await tokenFor(app, { email_id: customer.email_id.toUpperCase(), password: PASSWORD });
      expect(await meStatus(app, upper)).toBe(200);
    });

    it('matches the username regardless of case', async () => {
      const customer = await aCustomerWithPassword();
      const token = await tokenFor(app, { username: customer.username.toUpperCase(), password: PASSWORD });
      const me = await expectStatus<Json>(app, bearer(token), 200, 'GET', '/me');
      expect(me.id).toBe(customer.id);
    });

    it('logs staff in through the same endpoint, by username or email_id', async () => {
      const byName = await tokenFor(app, { username: TEST_ADMIN.username, password: TEST_ADMIN.password });
      const byEmail = await tokenFor(app, { email_id: TEST_ADMIN.email, password: TEST_ADMIN.password });
      for (const token of [byName, byEmail]) {
        expect(await expectStatus<Json>(app, bearer(token), 200, 'GET', '/me')).toMatchObject({ role: 'admin' });
      }
    });

    it('answers a wrong password and an unknown account with the same 401 body and WWW-Authenticate: Bearer', async () => {
      const customer = await aCustomerWithPassword();
      const wrongPassword = await attemptLogin(app, { username: customer.username, password: 'not the password' });
      const unknownUser = await attemptLogin(app, { username: `nobody_${customer.username}`, password: PASSWORD });
      const unknownEmail = await attemptLogin(app, { email_id: `nobody_${customer.email_id}`, password: PASSWORD });
      for (const response of [wrongPassword, unknownUser, unknownEmail]) problem(response, 401);
      expect(withoutRequestId(unknownUser)).toEqual(withoutRequestId(wrongPassword));
      expect(withoutRequestId(unknownEmail)).toEqual(withoutRequestId(wrongPassword));
      expect(wrongPassword.json<Problem>().request_id).not.toBe(unknownUser.json<Problem>().request_id);
    });

    it('answers 400 when neither username nor email_id is given, or the body is not valid', async () => {
      expect(fieldsOf(problem(await attemptLogin(app, { password: PASSWORD }), 400))).toContain('username');
      expect(fieldsOf(problem(await attemptLogin(app, { username: 'someone' }), 400))).toContain('password');
    });
  });

  describe('tokens', () => {
    it('answers 401 with WWW-Authenticate: Bearer for a missing, malformed or unknown token', async () => {
      const wrongScheme = { name: 'basic', headers: { authorization: 'Basic dXNlcjpwYXNz' } };
      const unknown = bearer(`st_${'A'.repeat(43)}`);
      for (const caller of [anonymous, wrongScheme, bearer('garbage'), unknown]) {
        problem(await send(app, caller, 'GET', '/me'), 401);
      }
    });

    it('ignores a bad token on a public route', async () => {
      const response = await send(app, bearer('garbage'), 'GET', '/products');
      expect(response.statusCode, response.body).toBe(200);
    });

    it('POST /auth/logout revokes the token it is called with, and only that one', async () => {
      const customer = await aCustomerWithPassword();
      const first = await tokenFor(app, { username: customer.username, password: PASSWORD });
      const second = await tokenFor(app, { username: customer.username, password: PASSWORD });
      const response = await send(app, bearer(first), 'POST', '/auth/logout');
      expect(response.statusCode, response.body).toBe(204);
      expect(response.body).toBe('');
      problem(await send(app, bearer(first), 'GET', '/me'), 401);
      problem(await send(app, bearer(first), 'POST', '/auth/logout'), 401);
      expect(await meStatus(app, second)).toBe(200);
    });

    it('POST /auth/logout without a token is 401', async () => {
      problem(await send(app, anonymous, 'POST', '/auth/logout'), 401);
    });

    it('GET /me returns a customer their own record with role customer', async () => {
      const a = await aSignedInCustomer(app);
      const me = await expectStatus<Json>(app, a, 200, 'GET', '/me');
      const record = await expectStatus<Customer>(app, a, 200, 'GET', `/customers/${a.customer.id}`);
      expect(me).toEqual({ ...record, role: 'customer' });
    });

    it('GET /me returns staff their account with role admin', async () => {
      const me = await expectStatus<Json>(app, admin, 200, 'GET', '/me');
      expect(me).toEqual({
        id: adminId,
        username: TEST_ADMIN.username,
        email_id: TEST_ADMIN.email,
        role: 'admin',
        disabled: false,
        created_at: expect.any(String),
        updated_at: expect.any(String),
      });
    });

    it('ends a token when it expires', async () => {
      const shortLived = await createTestApp({ tokenTtlSeconds: 1 });
      try {
        const response = await attemptLogin(shortLived, {
          username: TEST_ADMIN.username,
          password: TEST_ADMIN.password,
        });
        expect(response.statusCode, response.body).toBe(200);
        const { access_token: token, expires_in: expiresIn } = response.json<Token>();
        expect(expiresIn).toBe(1);
        expect(await meStatus(shortLived, token)).toBe(200);
        await new Promise((resolve) => setTimeout(resolve, 1_600));
        problem(await send(shortLived, bearer(token), 'GET', '/me'), 401);
      } finally {
        await shortLived.close();
      }
    });
  });

  describe('ending every token of an account', () => {
    async function twoTokens(login: Json) {
      return [await tokenFor(app, login), await tokenFor(app, login)] as const;
    }

    it("a customer's own password change ends all their tokens; the new password works, the old does not", async () => {
      const customer = await aCustomerWithPassword();
      const [first, second] = await twoTokens({ username: customer.username, password: PASSWORD });
      await expectStatus(app, bearer(first), 200, 'PATCH', `/customers/${customer.id}`, { password: NEW_PASSWORD });
      expect([await meStatus(app, first), await meStatus(app, second)]).toEqual([401, 401]);
      problem(await attemptLogin(app, { username: customer.username, password: PASSWORD }), 401);
      expect(await meStatus(app, await tokenFor(app, { username: customer.username, password: NEW_PASSWORD }))).toBe(
        200,
      );
    });

    it("staff setting a customer's password ends that customer's tokens", async () => {
      const customer = await aCustomerWithPassword();
      const [first, second] = await twoTokens({ username: customer.username, password: PASSWORD });
      await expectStatus(app, admin, 200, 'PATCH', `/customers/${customer.id}`, { password: NEW_PASSWORD });
      expect([await meStatus(app, first), await meStatus(app, second)]).toEqual([401, 401]);
    });

    it('a change without a password keeps the tokens', async () => {
      const customer = await aCustomerWithPassword();
      const token = await tokenFor(app, { username: customer.username, password: PASSWORD });
      await expectStatus(app, bearer(token), 200, 'PATCH', `/customers/${customer.id}`, { first_name: 'Grace' });
      expect(await meStatus(app, token)).toBe(200);
    });

    it("a customer's deletion ends their tokens and their login", async () => {
      const customer = await aCustomerWithPassword();
      const [first, second] = await twoTokens({ username: customer.username, password: PASSWORD });
      const response = await send(app, bearer(first), 'DELETE', `/customers/${customer.id}`);
      expect(response.statusCode, response.body).toBe(204);
      expect([await meStatus(app, first), await meStatus(app, second)]).toEqual([401, 401]);
      problem(await attemptLogin(app, { username: customer.username, password: PASSWORD }), 401);
    });

    it('so does the deletion of a customer with orders (erased in place), which frees their username', async () => {
      const customer = await aCustomerWithPassword();
      const [first, second] = await twoTokens({ username: customer.username, password: PASSWORD });
      await anOrder(app, bearer(first), { items: [{ product_id: product.id, quantity: 1 }] });
      await expectStatus(app, admin, 204, 'DELETE', `/customers/${customer.id}`);
      expect([await meStatus(app, first), await meStatus(app, second)]).toEqual([401, 401]);
      problem(await attemptLogin(app, { username: customer.username, password: PASSWORD }), 401);
      await aCustomer(app, anonymous, { username: customer.username, email_id: customer.email_id });
    });

    it("a staff password change ends that staff member's tokens", async () => {
      const member = await aStaffMember();
      const [first, second] = await twoTokens({ username: member.username, password: PASSWORD });
      await expectStatus(app, admin, 200, 'PATCH', `/staff/${member.id}`, { password: NEW_PASSWORD });
      expect([await meStatus(app, first), await meStatus(app, second)]).toEqual([401, 401]);
      problem(await attemptLogin(app, { username: member.username, password: PASSWORD }), 401);
      expect(await meStatus(app, await tokenFor(app, { username: member.username, password: NEW_PASSWORD }))).toBe(200);
    });

    it('staff can change their own password the same way', async () => {
      const member = await aStaffMember();
      const token = await tokenFor(app, { username: member.username, password: PASSWORD });
      await expectStatus(app, bearer(token), 200, 'PATCH', `/staff/${member.id}`, { password: NEW_PASSWORD });
      expect(await meStatus(app, token)).toBe(401);
    });

    it('disabling a staff member ends their tokens and refuses their login like a wrong password', async () => {
      const member = await aStaffMember();
      const [first, second] = await twoTokens({ username: member.username, password: PASSWORD });
      const disabled = await expectStatus<StaffMember>(app, admin, 200, 'PATCH', `/staff/${member.id}`, {
        disabled: true,
      });
      expect(disabled.disabled).toBe(true);
      expect([await meStatus(app, first), await meStatus(app, second)]).toEqual([401, 401]);
      const refused = await attemptLogin(app, { username: member.username, password: PASSWORD });
      const wrong = await attemptLogin(app, { username: member.username, password: 'not the password' });
      problem(refused, 401);
      expect(withoutRequestId(refused)).toEqual(withoutRequestId(wrong));

      await expectStatus(app, admin, 200, 'PATCH', `/staff/${member.id}`, { disabled: false });
      expect(await meStatus(app, await tokenFor(app, { username: member.username, password: PASSWORD }))).toBe(200);
    });
  });

  describe('staff accounts', () => {
    it('POST /staff creates an admin who can log in and use staff routes', async () => {
      const { username, email_id } = customerFields();
      const response = await send(app, admin, 'POST', '/staff', {
        username: `staff_${username}`,
        email_id: `staff_${email_id}`,
        password: PASSWORD,
      });
      expect(response.statusCode, response.body).toBe(201);
      const member = response.json<StaffMember>();
      expect(response.headers.location).toBe(`/staff/${member.id}`);
      expect(member).toEqual({
        id: expect.any(Number),
        username: `staff_${username}`,
        email_id: `staff_${email_id}`,
        role: 'admin',
        disabled: false,
        created_at: expect.any(String),
        updated_at: expect.any(String),
      });
      const token = await tokenFor(app, { username: member.username, password: PASSWORD });
      expect(await expectStatus(app, bearer(token), 200, 'GET', '/me')).toEqual(member);
      await expectStatus(app, bearer(token), 200, 'GET', '/customers');
      await expectStatus(app, bearer(token), 200, 'GET', '/staff');
    });

    it('GET /staff lists staff and GET /staff/{id} reads one; a missing id is 404', async () => {
      const member = await aStaffMember();
      const all = await allPages<StaffMember>(admin, '/staff?limit=200');
      expect(all.map((m) => m.username)).toEqual(expect.arrayContaining([TEST_ADMIN.username, member.username]));
      expect(await expectStatus(app, admin, 200, 'GET', `/staff/${member.id}`)).toEqual(member);
      problem(await send(app, admin, 'GET', `/staff/${MISSING_ID}`), 404);
      problem(await send(app, admin, 'PATCH', `/staff/${MISSING_ID}`, { disabled: false }), 404);
    });

    it('validates staff input', async () => {
      const tooShort = await send(app, admin, 'POST', '/staff', {
        username: 'someone_new',
        email_id: 'someone_new@example.com',
        password: 'short',
      });
      expect(fieldsOf(problem(tooShort, 400))).toContain('password');
      problem(await send(app, admin, 'PATCH', `/staff/${adminId}`, {}), 400);
      problem(await send(app, admin, 'PATCH', `/staff/${adminId}`, { role: 'customer' }), 400);
    });

    it('never shows staff in /customers', async () => {
      const member = await aStaffMember();
      const customers = await allPages<Customer>(admin, '/customers?limit=200');
      const names = customers.map((c) => c.username.toLowerCase());
      expect(names).not.toContain(member.username.toLowerCase());
      expect(names).not.toContain(TEST_ADMIN.username.toLowerCase());
      expect(customers.map((c) => c.email_id.toLowerCase())).not.toContain(TEST_ADMIN.email.toLowerCase());
    });

    it("refuses a customer sign-up with a staff member's username or email_id (any case): 409", async () => {
      const byName = await send(
        app,
        anonymous,
        'POST',
        '/customers',
        customerFields({ username: TEST_ADMIN.username }),
      );
      expect(problem(byName, 409).code).toBe('USERNAME_TAKEN');
      const byUpperName = await send(
        app,
        anonymous,
        'POST',
        '/customers',
        customerFields({ username: TEST_ADMIN.username.toUpperCase() }),
      );
      expect(problem(byUpperName, 409).code).toBe('USERNAME_TAKEN');
      const byEmail = await send(
        app,
        anonymous,
        'POST',
        '/customers',
        customerFields({ email_id: TEST_ADMIN.email.toUpperCase() }),
      );
      expect(problem(byEmail, 409).code).toBe('EMAIL_TAKEN');
    });

    it("refuses a staff account with a customer's username or email_id, and renaming a customer to staff's: 409", async () => {
      const customer = await aCustomerWithPassword();
      const byName = await send(app, admin, 'POST', '/staff', {
        username: customer.username.toUpperCase(),
        email_id: `other_${customer.email_id}`,
        password: PASSWORD,
      });
      expect(problem(byName, 409).code).toBe('USERNAME_TAKEN');
      const byEmail = await send(app, admin, 'POST', '/staff', {
        username: `other_${customer.username}`,
        email_id: customer.email_id,
        password: PASSWORD,
      });
      expect(problem(byEmail, 409).code).toBe('EMAIL_TAKEN');
      const rename = await send(app, admin, 'PATCH', `/customers/${customer.id}`, { username: TEST_ADMIN.username });
      expect(problem(rename, 409).code).toBe('USERNAME_TAKEN');
    });

    it('refuses to disable the last active admin (409), but allows it while another is active', async () => {
      const fresh = await createTestApp();
      try {
        const first = await staff(fresh);
        const firstId = (await expectStatus<StaffMember>(fresh, first, 200, 'GET', '/me')).id;
        const alone = await send(fresh, first, 'PATCH', `/staff/${firstId}`, { disabled: true });
        expect(problem(alone, 409).code).toBe('LAST_ADMIN');
        await expectStatus(fresh, first, 200, 'GET', '/me');

        const second = await expectStatus<StaffMember>(fresh, first, 201, 'POST', '/staff', {
          username: 'second-admin',
          email_id: 'second-admin@example.com',
          password: PASSWORD,
        });
        const secondCaller = { name: 'second', headers: await logIn(fresh, second.username, PASSWORD) };
        await expectStatus(fresh, secondCaller, 200, 'PATCH', `/staff/${firstId}`, { disabled: true });
        // Now the second is the last active one.
        const last = await send(fresh, secondCaller, 'PATCH', `/staff/${second.id}`, { disabled: true });
        expect(problem(last, 409).code).toBe('LAST_ADMIN');
      } finally {
        await fresh.close();
      }
    });

    it('starts when a customer already holds ADMIN_USERNAME, leaving that customer alone', async () => {
      // Two starts on one embedded database: the first without an admin, where a customer takes the name.
      const dataDir = mkdtempSync(join(tmpdir(), 'auth-admin-'));
      const taken = { username: 'taken-admin', email: 'taken-admin@example.com' };
      try {
        const first = await buildApp(defineConfig({ databaseUrl: '', dataDir, admin: null }));
        try {
          await aCustomer(first, anonymous, { username: taken.username, email_id: taken.email, password: PASSWORD });
        } finally {
          await first.close();
        }
        const second = await buildApp(
          defineConfig({
            databaseUrl: '',
            dataDir,
            admin: { ...taken, email: 'other@example.com', password: NEW_PASSWORD },
          }),
        );
        try {
          const token = await tokenFor(second, { username: taken.username, password: PASSWORD });
          expect(await expectStatus<Json>(second, bearer(token), 200, 'GET', '/me')).toMatchObject({
            role: 'customer',
          });
          problem(await attemptLogin(second, { username: taken.username, password: NEW_PASSWORD }), 401);
        } finally {
          await second.close();
        }
      } finally {
        rmSync(dataDir, { recursive: true, force: true });
      }
    });
  });

  describe('the order of the checks: token (401), role (403), input (400), existence and ownership (404)', () => {
    it('answers a customer 403 on a staff route even with an invalid body', async () => {
      const a = await aSignedInCustomer(app);
      problem(await send(app, a, 'POST', '/staff', { username: 1 }), 403);
      problem(await send(app, a, 'POST', '/products', { nonsense: true }), 403);
      problem(await send(app, a, 'PATCH', `/staff/not-a-number`, {}), 403);
      problem(await send(app, a, 'GET', '/customers?limit=0'), 403);
    });

    it('answers 401 without a token, whatever the body or route', async () => {
      problem(await send(app, anonymous, 'POST', '/staff', { username: 1 }), 401);
      problem(await send(app, anonymous, 'POST', '/contacts', { city: '' }), 401);
      problem(await send(app, anonymous, 'PATCH', '/customers/not-a-number', {}), 401);
      problem(await send(app, anonymous, 'POST', '/orders', { items: [] }), 401);
    });

    it("checks a customer's input before whether the target is theirs", async () => {
      const a = await aSignedInCustomer(app);
      const b = await aSignedInCustomer(app);
      problem(await send(app, a, 'PATCH', `/customers/${b.customer.id}`, { first_name: '' }), 400);
      problem(await send(app, a, 'GET', '/customers/not-a-number'), 400);
      problem(await send(app, a, 'PATCH', `/customers/${b.customer.id}`, { first_name: 'Grace' }), 404);
    });

    it('forbidden answers are problem+json 403 without WWW-Authenticate', async () => {
      const a = await aSignedInCustomer(app);
      const response = await send(app, a, 'GET', '/staff');
      expect(problem(response, 403).code).toBe('FORBIDDEN');
      expect(response.headers['www-authenticate']).toBeUndefined();
    });
  });

  describe("another customer's resources answer exactly like missing ones", () => {
    let a: Caller & { customer: Customer };
    let b: Caller & { customer: Customer };
    let contactOfB: Contact;
    let orderOfB: Order;
    beforeAll(async () => {
      a = await aSignedInCustomer(app);
      b = await aSignedInCustomer(app);
      contactOfB = await aContact(app, b);
      orderOfB = await anOrder(app, b, { items: [{ product_id: product.id, quantity: 1 }] });
    });

    it.each([
      ['GET', '/customers/{other}', '/customers/{missing}'],
      ['GET', '/customers/{other}/contacts', '/customers/{missing}/contacts'],
      ['GET', '/customers/{other}/orders', '/customers/{missing}/orders'],
      ['DELETE', '/customers/{other}', '/customers/{missing}'],
      ['GET', '/contacts/{otherContact}', '/contacts/{missing}'],
      ['DELETE', '/contacts/{otherContact}', '/contacts/{missing}'],
      ['GET', '/orders/{otherOrder}', '/orders/{missing}'],
    ] as const)('%s %s is the 404 of %s', async (method, other, missing) => {
      const fill = (url: string) =>
        url
          .replace('{other}', String(b.customer.id))
          .replace('{otherContact}', String(contactOfB.id))
          .replace('{otherOrder}', String(orderOfB.id))
          .replace('{missing}', String(MISSING_ID));
      const theirs = await send(app, a, method, fill(other));
      const absent = await send(app, a, method, fill(missing));
      problem(theirs, 404);
      expect(withoutRequestId(theirs)).toEqual(withoutRequestId(absent));
    });

    it('PATCH of their contact is the 404 of a missing contact', async () => {
      const theirs = await send(app, a, 'PATCH', `/contacts/${contactOfB.id}`, { city: 'Elsewhere' });
      const absent = await send(app, a, 'PATCH', `/contacts/${MISSING_ID}`, { city: 'Elsewhere' });
      problem(theirs, 404);
      expect(withoutRequestId(theirs)).toEqual(withoutRequestId(absent));
      // Nothing changed.
      const contact = await expectStatus<Contact>(app, admin, 200, 'GET', `/contacts/${contactOfB.id}`);
      expect(contact.city).toBe(contactFields().city);
    });
  });

  describe('contacts belong to the customers linked to them', () => {
    it('a contact a customer creates is linked to them at once, and lists show only theirs', async () => {
      const a = await aSignedInCustomer(app);
      const b = await aSignedInCustomer(app);
      const first = await aContact(app, a);
      const second = await aContact(app, a, { city: 'Capital City' });
      const ofB = await aContact(app, b);
      const staffContact = await aContact(app, admin);

      const record = await expectStatus<Customer>(app, a, 200, 'GET', `/customers/${a.customer.id}`);
      expect(record.contact_id).toEqual([first.id, second.id]);
      const linked = await expectStatus<Contact[]>(app, a, 200, 'GET', `/customers/${a.customer.id}/contacts`);
      expect(linked.map((c) => c.id)).toEqual([first.id, second.id]);
      const listed = await allPages<Contact>(a, '/contacts?limit=200');
      expect(listed.map((c) => c.id)).toEqual([first.id, second.id]);
      expect((await allPages<Contact>(b, '/contacts?limit=200')).map((c) => c.id)).toEqual([ofB.id]);

      // Staff see every contact, linked or not.
      const everything = (await allPages<Contact>(admin, '/contacts?limit=200')).map((c) => c.id);
      expect(everything).toEqual(expect.arrayContaining([first.id, second.id, ofB.id, staffContact.id]));
    });

    it('deleting a shared contact only unlinks it from the customer; the other keeps it', async () => {
      const a = await aSignedInCustomer(app);
      const b = await aSignedInCustomer(app);
      const shared = await aContact(app, a);
      await expectStatus(app, admin, 204, 'PUT', `/customers/${b.customer.id}/contacts/${shared.id}`);

      await expectStatus(app, a, 204, 'DELETE', `/contacts/${shared.id}`);
      problem(await send(app, a, 'GET', `/contacts/${shared.id}`), 404);
      expect((await expectStatus<Customer>(app, a, 200, 'GET', `/customers/${a.customer.id}`)).contact_id).toEqual([]);
      expect(await expectStatus(app, b, 200, 'GET', `/contacts/${shared.id}`)).toEqual(shared);
      expect((await expectStatus<Customer>(app, b, 200, 'GET', `/customers/${b.customer.id}`)).contact_id).toEqual([
        shared.id,
      ]);

      // Linked to B alone now, so B's delete removes it for good.
      await expectStatus(app, b, 204, 'DELETE', `/contacts/${shared.id}`);
      problem(await send(app, admin, 'GET', `/contacts/${shared.id}`), 404);
    });

    it('a customer cannot change a shared contact (409); staff can', async () => {
      const a = await aSignedInCustomer(app);
      const b = await aSignedInCustomer(app);
      const shared = await aContact(app, a);
      await expectStatus(app, admin, 204, 'PUT', `/customers/${b.customer.id}/contacts/${shared.id}`);
      for (const caller of [a, b]) {
        const response = await send(app, caller, 'PATCH', `/contacts/${shared.id}`, { city: 'Ogdenville' });
        expect(problem(response, 409).code).toBe('CONTACT_SHARED');
      }
      expect(await expectStatus<Contact>(app, a, 200, 'GET', `/contacts/${shared.id}`)).toEqual(shared);
      const changed = await expectStatus<Contact>(app, admin, 200, 'PATCH', `/contacts/${shared.id}`, {
        city: 'Ogdenville',
      });
      expect(changed.city).toBe('Ogdenville');
    });

    it("counts another customer's contact as missing in contact_id on sign-up and on update (400 naming it)", async () => {
      const a = await aSignedInCustomer(app);
      const b = await aSignedInCustomer(app);
      const own = await aContact(app, a);
      const ofB = await aContact(app, b);

      const signUp = await send(app, anonymous, 'POST', '/customers', customerFields({ contact_id: [ofB.id] }));
      expect(fieldsOf(problem(signUp, 400))).toEqual(['contact_id[0]']);
      const asA = await send(app, a, 'POST', '/customers', customerFields({ contact_id: [ofB.id] }));
      expect(fieldsOf(problem(asA, 400))).toEqual(['contact_id[0]']);

      const update = await send(app, a, 'PATCH', `/customers/${a.customer.id}`, { contact_id: [own.id, ofB.id] });
      expect(fieldsOf(problem(update, 400))).toEqual(['contact_id[1]']);
      const missing = await send(app, a, 'PATCH', `/customers/${a.customer.id}`, { contact_id: [MISSING_ID] });
      expect(withoutRequestId(missing).code).toBe(withoutRequestId(update).code);
      expect((await expectStatus<Customer>(app, a, 200, 'GET', `/customers/${a.customer.id}`)).contact_id).toEqual([
        own.id,
      ]);

      // Staff may name any contact.
      const byStaff = await aCustomer(app, admin, { contact_id: [ofB.id] });
      expect(byStaff.contact_id).toEqual([ofB.id]);
    });

    it("answers 404 when a customer links another customer's contact to themselves", async () => {
      const a = await aSignedInCustomer(app);
      const b = await aSignedInCustomer(app);
      const ofB = await aContact(app, b);
      const theirs = await send(app, a, 'PUT', `/customers/${a.customer.id}/contacts/${ofB.id}`);
      const absent = await send(app, a, 'PUT', `/customers/${a.customer.id}/contacts/${MISSING_ID}`);
      problem(theirs, 404);
      expect(withoutRequestId(theirs)).toEqual(withoutRequestId(absent));
      const unlinkTheirs = await send(app, a, 'DELETE', `/customers/${a.customer.id}/contacts/${ofB.id}`);
      problem(unlinkTheirs, 404);
      expect((await expectStatus<Customer>(app, b, 200, 'GET', `/customers/${b.customer.id}`)).contact_id).toEqual([
        ofB.id,
      ]);
    });

    it("refuses shipping_contact_id naming another customer's contact: 400 naming shipping_contact_id", async () => {
      const a = await aSignedInCustomer(app);
      const b = await aSignedInCustomer(app);
      const ofB = await aContact(app, b);
      const response = await send(app, a, 'POST', '/orders', {
        items: [{ product_id: product.id, quantity: 1 }],
        shipping_contact_id: ofB.id,
      });
      expect(fieldsOf(problem(response, 400))).toEqual(['shipping_contact_id']);
      expect(await allPages<Order>(a, '/orders')).toEqual([]);
    });
  });

  describe('orders belong to their customer', () => {
    it('a customer orders for themselves with customer_id omitted or their own', async () => {
      const a = await aSignedInCustomer(app);
      const contact = await aContact(app, a);
      const implicit = await anOrder(app, a, {
        items: [{ product_id: product.id, quantity: 1 }],
        shipping_contact_id: contact.id,
      });
      expect(implicit).toMatchObject({ customer_id: a.customer.id, shipping_contact_id: contact.id });
      const explicit = await anOrder(app, a, {
        customer_id: a.customer.id,
        items: [{ product_id: product.id, quantity: 2 }],
      });
      expect(explicit.customer_id).toBe(a.customer.id);
      expect(await expectStatus(app, a, 200, 'GET', `/orders/${implicit.id}`)).toEqual(implicit);
    });

    it("answers 400 naming customer_id for another customer's id, as for a missing one", async () => {
      const a = await aSignedInCustomer(app);
      const b = await aSignedInCustomer(app);
      const items = [{ product_id: product.id, quantity: 1 }];
      const theirs = await send(app, a, 'POST', '/orders', { customer_id: b.customer.id, items });
      const absent = await send(app, a, 'POST', '/orders', { customer_id: MISSING_ID, items });
      expect(fieldsOf(problem(theirs, 400))).toEqual(['customer_id']);
      expect(fieldsOf(problem(absent, 400))).toEqual(['customer_id']);
      expect(theirs.json<Problem>().code).toBe(absent.json<Problem>().code);
      expect(await allPages<Order>(b, '/orders')).toEqual([]);
    });

    it('staff must name the customer: 400 naming customer_id', async () => {
      const response = await send(app, admin, 'POST', '/orders', { items: [{ product_id: product.id, quantity: 1 }] });
      expect(fieldsOf(problem(response, 400))).toEqual(['customer_id']);
    });

    it('GET /orders answers a customer 200 with only their own orders, whatever customer_id they filter by', async () => {
      const a = await aSignedInCustomer(app);
      const b = await aSignedInCustomer(app);
      const items = [{ product_id: product.id, quantity: 1 }];
      const mine = [await anOrder(app, a, { items }), await anOrder(app, a, { items })];
      const theirs = await anOrder(app, b, { items });

      expect((await allPages<Order>(a, '/orders?limit=200')).map((o) => o.id)).toEqual(mine.map((o) => o.id));
      expect((await allPages<Order>(b, '/orders?limit=200')).map((o) => o.id)).toEqual([theirs.id]);
      expect(await allPages<Order>(a, `/orders?customer_id=${b.customer.id}`)).toEqual([]);
      expect((await allPages<Order>(a, `/orders?customer_id=${a.customer.id}`)).map((o) => o.id)).toEqual(
        mine.map((o) => o.id),
      );
      const paged = await allPages<Order>(a, '/orders?limit=1');
      expect(paged.map((o) => o.id)).toEqual(mine.map((o) => o.id));

      const all = (await allPages<Order>(admin, '/orders?limit=200')).map((o) => o.id);
      expect(all).toEqual(expect.arrayContaining([...mine.map((o) => o.id), theirs.id]));
    });
  });

  describe('no password or hash in any answer', () => {
    it('customer, staff, /me and login answers carry neither the password nor its hash', async () => {
      const fields = customerFields({ password: PASSWORD });
      const answers: LightMyRequestResponse[] = [];
      const record = async (response: Promise<LightMyRequestResponse>, status: number) => {
        const answer = await response;
        expect(answer.statusCode, answer.body).toBe(status);
        answers.push(answer);
        return answer;
      };
      const created = (await record(send(app, anonymous, 'POST', '/customers', fields), 201)).json<Customer>();
      const login = await record(
        app.inject({ method: 'POST', url: '/auth/login', payload: { username: fields.username, password: PASSWORD } }),
        200,
      );
      const customer = bearer(login.json<Token>().access_token);
      await record(send(app, customer, 'GET', '/me'), 200);
      await record(send(app, customer, 'GET', `/customers/${created.id}`), 200);
      await record(send(app, admin, 'GET', `/customers/${created.id}`), 200);
      await record(send(app, admin, 'GET', '/customers?limit=200'), 200);
      await record(send(app, admin, 'PATCH', `/customers/${created.id}`, { password: NEW_PASSWORD }), 200);

      const { username, email_id } = customerFields();
      const member = (
        await record(
          send(app, admin, 'POST', '/staff', {
            username: `staff_${username}`,
            email_id: `staff_${email_id}`,
            password: PASSWORD,
          }),
          201,
        )
      ).json<StaffMember>();
      await record(send(app, admin, 'GET', '/staff?limit=200'), 200);
      await record(send(app, admin, 'GET', `/staff/${member.id}`), 200);
      await record(send(app, admin, 'PATCH', `/staff/${member.id}`, { password: NEW_PASSWORD }), 200);
      await record(send(app, admin, 'GET', '/me'), 200);

      for (const answer of answers) {
        for (const secret of ['password', 'scrypt$', PASSWORD, NEW_PASSWORD, TEST_ADMIN.password]) {
          expect(answer.body, `${answer.statusCode} ${answer.body.slice(0, 200)}`).not.toContain(secret);
        }
      }
    });
  });
});

describe('failed-login limits', () => {
  const retryAfter = (response: LightMyRequestResponse) => {
    expect(problem(response, 429).code).toBe('TOO_MANY_ATTEMPTS');
    const header = String(response.headers['retry-after']);
    expect(header).toMatch(/^[1-9][0-9]*$/);
    expect(Number(header)).toBeLessThanOrEqual(15 * 60);
  };

  it('blocks a username after 10 failures in 15 minutes, even the right password, from any address', async () => {
    const app = await createTestApp();
    try {
      const customer = await aCustomer(app, anonymous, { password: PASSWORD });
      const other = await aCustomer(app, anonymous, { password: PASSWORD });
      // Each failure from its own address and in varying case: the count is per username, not per address.
      for (let i = 1; i <= 10; i++) {
        const username = i % 2 ? customer.username : customer.username.toUpperCase();
        const response = await attemptLogin(app, { username, password: `wrong ${i}` }, `192.0.2.${i}`);
        problem(response, 401);
      }
      retryAfter(await attemptLogin(app, { username: customer.username, password: PASSWORD }, '198.51.100.1'));
      retryAfter(await attemptLogin(app, { username: customer.username, password: 'wrong' }, '198.51.100.2'));
      // Another account is unaffected.
      const fine = await attemptLogin(app, { username: other.username, password: PASSWORD }, '198.51.100.3');
      expect(fine.statusCode, fine.body).toBe(200);
    } finally {
      await app.close();
    }
  });

  it('counts failures per account, so switching from username to email_id does not buy more guesses', async () => {
    const app = await createTestApp();
    try {
      const customer = await aCustomer(app, anonymous, { password: PASSWORD });
      for (let i = 1; i <= 10; i++) {
        problem(await attemptLogin(app, { username: customer.username, password: 'wrong' }, `192.0.2.${i}`), 401);
      }
      retryAfter(await attemptLogin(app, { email_id: customer.email_id, password: PASSWORD }, '198.51.100.7'));
    } finally {
      await app.close();
    }
  });

  it('does not block before the tenth failure', async () => {
    const app = await createTestApp();
    try {
      const customer = await aCustomer(app, anonymous, { password: PASSWORD });
      for (let i = 1; i <= 9; i++) {
        problem(await attemptLogin(app, { username: customer.username, password: 'wrong' }, `192.0.2.${i}`), 401);
      }
      // The tenth attempt is still judged on its password.
      problem(await attemptLogin(app, { username: customer.username, password: 'wrong' }, '192.0.2.10'), 401);
      retryAfter(await attemptLogin(app, { username: customer.username, password: PASSWORD }, '192.0.2.11'));
    } finally {
      await app.close();
    }
  });

  it('blocks a client address after 10 failures for different usernames', async () => {
    const app = await createTestApp();
    try {
      const customer = await aCustomer(app, anonymous, { password: PASSWORD });
      for (let i = 1; i <= 10; i++) {
        const response = await app.inject({
          method: 'POST',
          url: '/auth/login',
          payload: { username: `nobody_${i}_${customer.username}`, password: 'wrong' },
        });
        problem(response, 401);
      }
      const blocked = await app.inject({
        method: 'POST',
        url: '/auth/login',
        payload: { username: customer.username, password: PASSWORD },
      });
      retryAfter(blocked);
      // X-Forwarded-For is not trusted, so it cannot dodge the limit.
      const forwarded = await attemptLogin(app, { username: customer.username, password: PASSWORD }, '127.0.0.1', {
        'x-forwarded-for': '203.0.113.9',
      });
      retryAfter(forwarded);
      // Another address may still log in.
      const elsewhere = await attemptLogin(app, { username: customer.username, password: PASSWORD }, '198.51.100.4');
      expect(elsewhere.statusCode, elsewhere.body).toBe(200);
    } finally {
      await app.close();
    }
  });
});

describe('HTTP hardening', () => {
  let app: App;
  beforeAll(async () => {
    app = await createTestApp();
  });
  afterAll(async () => app.close());

  it('sends security headers on answers and errors alike', async () => {
    const answers = [
      await send(app, anonymous, 'GET', '/health'),
      await send(app, anonymous, 'GET', '/products'),
      await send(app, anonymous, 'GET', '/me'),
      await send(app, anonymous, 'GET', '/no-such-route'),
    ];
    for (const answer of answers) {
      expect(answer.headers['x-content-type-options']).toBe('nosniff');
      expect(answer.headers['content-security-policy']).toContain("default-src 'none'");
    }
  });

  it('keeps CORS off by default', async () => {
    const origin = { origin: 'https://shop.example' };
    const simple = await send(app, anonymous, 'GET', '/products', undefined, origin);
    expect(simple.statusCode).toBe(200);
    expect(simple.headers['access-control-allow-origin']).toBeUndefined();
    const preflight = await app.inject({
      method: 'OPTIONS',
      url: '/products',
      headers: { ...origin, 'access-control-request-method': 'GET' },
    });
    expect(preflight.headers['access-control-allow-origin']).toBeUndefined();
  });

  it('allows the configured origins only when CORS_ORIGINS is set', async () => {
    const withCors = await createTestApp({ corsOrigins: ['https://shop.example'] });
    try {
      const allowed = await send(withCors, anonymous, 'GET', '/products', undefined, {
        origin: 'https://shop.example',
      });
      expect(allowed.statusCode).toBe(200);
      expect(allowed.headers['access-control-allow-origin']).toBe('https://shop.example');
      const other = await send(withCors, anonymous, 'GET', '/products', undefined, { origin: 'https://evil.example' });
      expect(other.headers['access-control-allow-origin']).toBeUndefined();

      const preflight = await withCors.inject({
        method: 'OPTIONS',
        url: '/customers',
        headers: {
          origin: 'https://shop.example',
          'access-control-request-method': 'GET',
          'access-control-request-headers': 'authorization',
        },
      });
      expect(preflight.statusCode).toBeLessThan(300);
      expect(preflight.headers['access-control-allow-origin']).toBe('https://shop.example');
      expect(String(preflight.headers['access-control-allow-headers']).toLowerCase()).toContain('authorization');
    } finally {
      await withCors.close();
    }
  });

  it('declares bearer auth in the OpenAPI document, on protected operations only', async () => {
    const doc = await expectStatus<{
      components: { securitySchemes: Json };
      paths: Record<string, Record<string, { security?: unknown; responses: Json }>>;
    }>(app, anonymous, 200, 'GET', '/openapi.json');
    expect(doc.components.securitySchemes.bearerAuth).toMatchObject({ type: 'http', scheme: 'bearer' });
    const bearerAuth = [{ bearerAuth: [] }];
    expect(doc.paths['/customers']!.get!.security).toEqual(bearerAuth);
    expect(doc.paths['/customers']!.get!.responses).toHaveProperty('401');
    expect(doc.paths['/customers']!.get!.responses).toHaveProperty('403');
    expect(doc.paths['/orders']!.post!.security).toEqual(bearerAuth);
    expect(doc.paths['/me']!.get!.security).toEqual(bearerAuth);
    expect(doc.paths['/staff']!.post!.security).toEqual(bearerAuth);
    expect(doc.paths['/products']!.get!.security).toBeUndefined();
    expect(doc.paths['/customers']!.post!.security).toBeUndefined();
    expect(doc.paths['/auth/login']!.post!.security).toBeUndefined();
  });
});
