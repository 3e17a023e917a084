import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { respondOnce } from '../../http/idempotent.js';
import { IdempotencyKeyHeader, problems, WRITE_ERRORS } from '../../http/responses.js';
import { IdParams } from '../../lib/ids.js';
import type { IdempotencyService } from '../idempotency/idempotency.service.js';
import { CreateShipmentBody, EventBody, Shipment } from './shipments.schemas.js';
import type { ShipmentsService } from './shipments.service.js';

const tags = ['shipments'];
const signedIn = { access: 'authenticated' as const };
const staffOnly = { access: 'staff' as const };

type Deps = { shipments: ShipmentsService; idempotency: IdempotencyService };

export const shipmentsRoutes: FastifyPluginAsyncTypebox<Deps> = async (app, { shipments, idempotency }) => {
  app.post(
    '/orders/:id/shipments',
    {
      config: staffOnly,
      schema: {
        tags,
        summary: 'Ship a paid order, all that is left or some items; an order ships in as many parcels as needed',
        headers: IdempotencyKeyHeader,
        params: IdParams,
        body: CreateShipmentBody,
        response: { 201: Shipment, ...problems(...WRITE_ERRORS, 404, 409, 422) },
      },
    },
    async (request, reply) => {
      await respondOnce(request, reply, idempotency, async (executor) => {
        const shipment = await shipments.create(request.params.id, request.body, request.actor, executor);
        return { status: 201, body: shipment, location: `/shipments/${shipment.id}` };
      });
      return reply;
    },
  );

  app.get(
    '/orders/:id/shipments',
    {
      config: signedIn,
      schema: {
        tags,
        summary: "An order's shipments with their tracking events",
        params: IdParams,
        response: { 200: Type.Array(Shipment), ...problems(400, 404) },
      },
    },
    (request) => shipments.listOfOrder(request.params.id, request.actor),
  );

  app.get(
    '/shipments/:id',
    {
      config: signedIn,
      schema: {
        tags,
        summary: 'One shipment with its tracking events',
        params: IdParams,
        response: { 200: Shipment, ...problems(400, 404) },
      },
    },
    (request) => shipments.get(request.params.id, request.actor),
  );

  app.post(
    '/shipments/:id/events',
    {
      config: staffOnly,
      schema: {
        tags,
        summary: 'Record a tracking event; the shipment takes the status of its latest event by occurred_at',
        headers: IdempotencyKeyHeader,
        params: IdParams,
        body: EventBody,
        response: { 201: Shipment, ...problems(...WRITE_ERRORS, 404, 409, 422) },
      },
    },
    async (request, reply) => {
      await respondOnce(request, reply, idempotency, async (executor) => {
        const { id } = request.params;
        const shipment = await shipments.addEvent(id, request.body, request.actor, executor);
        return { status: 201, body: shipment, location: `/shipments/${id}` };
      });
      return reply;
    },
  );
};
