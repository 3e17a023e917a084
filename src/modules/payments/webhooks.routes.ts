import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { problems } from '../../http/responses.js';
import { AppError, invalidField, notFound } from '../../lib/errors.js';
import type { PaymentsService } from './payments.service.js';
import { InvalidSignature, type PaymentProvider } from './providers/provider.js';
import { ProviderParams } from './payments.schemas.js';

type Deps = { payments: PaymentsService; providers: Map<string, PaymentProvider> };

/** Gateways report here; no bearer token, the signature over the raw body is the proof. */
export const paymentWebhookRoutes: FastifyPluginAsyncTypebox<Deps> = async (app, { payments, providers }) => {
  // The signature covers the exact bytes sent, so this plugin keeps JSON bodies as text.
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (_request, body, done) => done(null, body));

  app.post(
    '/webhooks/payments/:provider',
    {
      config: { access: 'public' },
      schema: {
        tags: ['webhooks'],
        summary: 'Payment gateway events (test: Store-Signature; stripe: Stripe-Signature)',
        params: ProviderParams,
        response: { 200: Type.Object({ received: Type.Boolean() }), ...problems(400, 404) },
      },
    },
    async (request) => {
      const provider = providers.get(request.params.provider);
      if (!provider?.parseWebhook) throw notFound('webhook provider');
      if (typeof request.body !== 'string') throw invalidField('body', 'the event must be sent as application/json');
      let event;
      try {
        event = await provider.parseWebhook(request.body, request.headers);
      } catch (error) {
        if (error instanceof InvalidSignature) {
          throw new AppError('invalid_input', 'INVALID_SIGNATURE', error.message, [
            { field: 'signature', message: error.message },
          ]);
        }
        throw error;
      }
      await payments.applyEvent(provider.name, event);
      return { received: true };
    },
  );
};
