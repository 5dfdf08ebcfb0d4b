/**
 * The answers of the MSI/EXE submission API. Every JSON answer is the wrapper
 * `{isSuccess, errors: [{code, message, target}], responseData}` (windows-dev-docs
 * hub/apps/publish/store-submission-api.md, "Response Parameters" of every method; msstore-cli
 * MSStore.API/Models/ResponseWrapper.cs). Failures of the gateway in front of it (a refused or
 * missing token, the rate limit) answer `{statusCode, message}` instead, which is what both
 * Microsoft clients read a 401 as (microsoft/store-submission src/store_apis.ts `ErrorResponse`,
 * msstore-cli MSStore.API/Models/ErrorResponse.cs).
 */
import { HttpError, type Reply, empty, json } from '../http';
import type { ResponseError } from './state';

export function ok(responseData: unknown, errors: ResponseError[] = []): Reply {
  return json(200, { isSuccess: true, errors, responseData });
}

/** A refusal in the wrapper: `status` 400 for a request the API finds wrong. */
export function refusal(status: number, errors: ResponseError[], responseData: unknown = null): Reply {
  return json(status, { isSuccess: false, errors, responseData });
}

export function badRequest(errors: ResponseError[]): HttpError {
  return new HttpError(refusal(400, errors));
}

export function oneError(code: string, message: string, target: string): ResponseError {
  return { code, message, target };
}

/** An unknown product, package or submission: 404, no body (the action reads no body from a 404). */
export function notFound(): HttpError {
  return new HttpError(empty(404));
}

export function gateway(status: number, message: string, headers?: Record<string, string>): Reply {
  return json(status, { statusCode: status, message }, headers);
}
