import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyRequest } from 'fastify';
import { Type } from '@sinclair/typebox';
import { problems } from '../../http/responses.js';
import { AppError, invalidField } from '../../lib/errors.js';
import { InvalidSignature } from '../payments/providers/provider.js';
import { verifySignature } from '../payments/providers/signature.js';
import { CarrierEventBody, CarrierParams } from './shipments.schemas.js';
import type { ShipmentsService } from './shipments.service.js';

type Deps = { shipments: ShipmentsService; secret: string };

/** Carriers report tracking here; no bearer token, the signature over the raw body is the proof. */
export const carrierWebhookRoutes: FastifyPluginAsyncTypebox<Deps> = async (app, { shipments, secret }) => {
  // The signature covers the exact bytes sent: keep them beside the parsed body, for this plugin only.
  const rawBodies = new WeakMap<FastifyRequest, string>();
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (request, body, done) => {
    rawBodies.set(request, body as string);
    try {
      done(null, JSON.parse(body as string));
    } catch {
      done(invalidField('body', 'the body is not valid JSON'), undefined);
    }
  });

  app.post(
    '/webhooks/carriers/:carrier',
    {
      config: { access: 'public' },
      schema: {
        tags: ['webhooks'],
        summary: 'Carrier tracking events, signed with Store-Signature (CARRIER_WEBHOOK_SECRET)',
        params: CarrierParams,
        body: CarrierEventBody,
        response: { 200: Type.Object({ received: Type.Boolean() }), ...problems(400, 404) },
      },
    },
    async (request) => {
      try {
        // Without a configured secret nothing can be verified, so nothing is taken.
        if (secret === '') throw new InvalidSignature('no CARRIER_WEBHOOK_SECRET is configured');
        verifySignature(rawBodies.get(request) ?? '', request.headers['store-signature'], secret);
      } catch (error) {
        if (error instanceof InvalidSignature) {
          throw new AppError('invalid_input', 'INVALID_SIGNATURE', error.message, [
            { field: 'signature', message: error.message },
          ]);
        }
        throw error;
      }
      await shipments.applyCarrierEvent(request.params.carrier, request.body);
      return { received: true };
    },
  );
};
