import { HttpRequest, InvocationContext } from '@azure/functions';
import { answering } from '../../functions/answers';

describe('answering: an unexpected error still answers', () => {
  it('with 500, a JSON body and the invocation id as correlation id; the error itself only in the log', async () => {
    const logged: string[] = [];
    const context = new InvocationContext({
      invocationId: '5f0c8a52-6a43-4d0a-9d55-1e8b8f4b2a10',
      functionName: 'getSubmission',
      logHandler: (_level, ...args) => logged.push(args.map(String).join(' ')),
    });
    const request = new HttpRequest({ method: 'GET', url: 'http://127.0.0.1:7071/api/submissions/zip-1?code=key123' });
    const handler = answering(async () => {
      throw new Error('socket hang up talking to http://storage.example/?sig=abc');
    });
    const answer = await handler(request, context);
    expect(answer).toEqual({
      status: 500,
      headers: { 'x-correlation-id': context.invocationId },
      jsonBody: {
        error: {
          code: 'InternalError',
          message: expect.stringContaining(`correlation id ${context.invocationId}`),
          correlationId: context.invocationId,
        },
      },
    });
    expect(JSON.stringify(answer.jsonBody)).not.toMatch(/socket hang up|sig=/);
    expect(logged.join('\n')).toMatch(
      /GET \/api\/submissions\/zip-1 failed unexpectedly \(correlation id 5f0c8a52-.*\): Error: socket hang up/,
    );
    expect(logged.join('\n')).not.toMatch(/sig=abc|key123/);
  });

  it('passes every other answer through unchanged', async () => {
    const context = new InvocationContext({ invocationId: 'x', functionName: 'f' });
    const request = new HttpRequest({ method: 'GET', url: 'http://127.0.0.1/api/x' });
    expect(
      await answering(async () => ({ status: 404, jsonBody: { error: { code: 'RunNotFound' } } }))(request, context),
    ).toEqual({
      status: 404,
      jsonBody: { error: { code: 'RunNotFound' } },
    });
  });
});
