import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { toProblem, type Problem } from '../../http/errors.js';
import { respondOnce } from '../../http/idempotent.js';
import { IdempotencyKeyHeader, problems, WRITE_ERRORS } from '../../http/responses.js';
import { IdParams } from '../../lib/ids.js';
import { AppError } from '../../lib/errors.js';
import type { IdempotencyService } from '../idempotency/idempotency.service.js';
import { CaptureBody, CreatePaymentBody, Payment, PaymentIdParams, RefundBody } from './payments.schemas.js';
import type { PaymentsService } from './payments.service.js';

const tags = ['payments'];
const signedIn = { access: 'authenticated' as const };
const staffOnly = { access: 'staff' as const };

type Deps = { payments: PaymentsService; idempotency: IdempotencyService };

export const paymentsRoutes: FastifyPluginAsyncTypebox<Deps> = async (app, { payments, idempotency }) => {
  app.post(
    '/orders/:id/payments',
    {
      config: signedIn,
      schema: {
        tags,
        summary: 'Pay for a pending order (its customer or staff); a decline answers 402 and is kept as failed',
        headers: IdempotencyKeyHeader,
        params: IdParams,
        body: CreatePaymentBody,
        response: { 201: Payment, ...problems(...WRITE_ERRORS, 402, 403, 404, 409, 422) },
      },
    },
    async (request, reply) => {
      await respondOnce(request, reply, idempotency, async (executor) => {
        const { payment, declined } = await payments.create(request.params.id, request.body, request.actor, executor);
        if (declined === null) {
          return { status: 201, body: payment as Payment | Problem, location: `/payments/${payment.id}` };
        }
        const error = new AppError('payment_required', 'PAYMENT_DECLINED', declined, undefined, {
          payment_id: payment.id,
        });
        return { status: 402, body: toProblem(error, request) };
      });
      return reply;
    },
  );

  app.get(
    '/orders/:id/payments',
    {
      config: signedIn,
      schema: {
        tags,
        summary: "An order's payments",
        params: IdParams,
        response: { 200: Type.Array(Payment), ...problems(400, 404) },
      },
    },
    (request) => payments.listOfOrder(request.params.id, request.actor),
  );

  app.get(
    '/payments/:id',
    {
      config: signedIn,
      schema: {
        tags,
        summary: 'One payment',
        params: PaymentIdParams,
        response: { 200: Payment, ...problems(400, 404) },
      },
    },
    (request) => payments.get(request.params.id, request.actor),
  );

  app.post(
    '/payments/:id/capture',
    {
      config: staffOnly,
      schema: {
        tags,
        summary: 'Capture an authorized payment, all of it or a smaller amount (the rest is released)',
        headers: IdempotencyKeyHeader,
        params: PaymentIdParams,
        body: CaptureBody,
        response: { 200: Payment, ...problems(...WRITE_ERRORS, 404, 409, 422) },
      },
      // The body is optional: without one, the whole authorization is captured.
      preValidation: async (request) => {
        request.body ??= {};
      },
    },
    async (request, reply) => {
      await respondOnce(request, reply, idempotency, async (executor) => ({
        status: 200,
        body: await payments.capture(request.params.id, request.body.amount, request.actor, executor),
      }));
      return reply;
    },
  );

  app.post(
    '/payments/:id/void',
    {
      config: staffOnly,
      schema: {
        tags,
        summary: 'Void an authorized or pending payment',
        headers: IdempotencyKeyHeader,
        params: PaymentIdParams,
        response: { 200: Payment, ...problems(400, 404, 409, 422) },
      },
    },
    async (request, reply) => {
      await respondOnce(request, reply, idempotency, async (executor) => ({
        status: 200,
        body: await payments.void(request.params.id, request.actor, executor),
      }));
      return reply;
    },
  );

  app.post(
    '/payments/:id/refunds',
    {
      config: staffOnly,
      schema: {
        tags,
        summary: 'Refund part or all of what a payment captured',
        headers: IdempotencyKeyHeader,
        params: PaymentIdParams,
        body: RefundBody,
        response: { 201: Payment, ...problems(...WRITE_ERRORS, 404, 409, 422) },
      },
    },
    async (request, reply) => {
      await respondOnce(request, reply, idempotency, async (executor) => {
        const { id } = request.params;
        const payment = await payments.refund(id, request.body.amount, request.body.reason, request.actor, executor);
        return { status: 201, body: payment, location: `/payments/${id}` };
      });
      return reply;
    },
  );
};
