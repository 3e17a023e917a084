import type { FastifyInstance } from 'fastify';
import { Ajv, type Options } from 'ajv';
import addFormats from 'ajv-formats';

const shared: Options = { allErrors: true, useDefaults: true, removeAdditional: false, strict: false };

/**
 * Bodies are taken exactly as their JSON types (a "5" where a number belongs is an error, unknown fields too);
 * path and query values arrive as text, so only they are converted.
 */
export const createBodyValidator = () => addFormats.default(new Ajv({ ...shared, coerceTypes: false }));

export function registerValidation(app: FastifyInstance): void {
  const forBodies = createBodyValidator();
  const forText = addFormats.default(new Ajv({ ...shared, coerceTypes: 'array' }));
  app.setValidatorCompiler(({ schema, httpPart }) => (httpPart === 'body' ? forBodies : forText).compile(schema));
}
