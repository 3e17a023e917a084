import { AsyncLocalStorage } from 'node:async_hooks';

/** What the code serving one request may need to know about it without being handed the request. */
export type RequestScope = {
  /** The client was already answered 503 for taking too long: nothing this request started may still commit. */
  abandoned: boolean;
};

const storage = new AsyncLocalStorage<RequestScope>();

/** Called once at the start of a request; everything it awaits afterwards sees this scope. */
export function enterRequestScope(scope: RequestScope): void {
  storage.enterWith(scope);
}

export const requestAbandoned = (): boolean => storage.getStore()?.abandoned === true;
