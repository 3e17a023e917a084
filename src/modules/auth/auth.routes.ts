import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { NoContent, problems, WRITE_ERRORS } from '../../http/responses.js';
import { LoginBody, Me, TokenResponse } from './auth.schemas.js';
import type { AuthService } from './auth.service.js';

const tags = ['auth'];

export const authRoutes: FastifyPluginAsyncTypebox<{ auth: AuthService }> = async (app, { auth }) => {
  app.post(
    '/auth/login',
    {
      config: { access: 'public' },
      schema: {
        tags,
        summary: 'Exchange a username (or email_id) and password for a bearer token',
        body: LoginBody,
        response: { 200: TokenResponse, ...problems(...WRITE_ERRORS, 401, 429) },
      },
    },
    (request) => auth.login(request.body, request.ip),
  );

  app.post(
    '/auth/logout',
    {
      config: { access: 'authenticated' },
      schema: {
        tags,
        summary: 'Revoke the token this request carries',
        response: { 204: NoContent, ...problems(401) },
      },
    },
    async (request, reply) => {
      await auth.logout(request.bearerToken!);
      return reply.code(204).send();
    },
  );

  app.get(
    '/me',
    {
      config: { access: 'authenticated' },
      schema: { tags, summary: "The caller's own account, with its role", response: { 200: Me, ...problems(401) } },
    },
    (request) => auth.me(request.actor!),
  );
};
