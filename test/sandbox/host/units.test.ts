import { compileBlobPattern } from '../../../sandbox/host/blobTrigger';
import { flattenActions, VirtualClock } from '../../../sandbox/host/durable/engine';
import { globToRegExp } from '../../../sandbox/host/glob';
import { compileRoute } from '../../../sandbox/host/http';
import { redact } from '../../../sandbox/host/log';

describe('sandbox host building blocks', () => {
  it('matches package.json main globs as the worker does', () => {
    const re = globToRegExp('dist/{functions,orchestrations}/**/*.js');
    expect(re.test('dist/functions/submissionBlob.js')).toBe(true);
    expect(re.test('dist/orchestrations/activities/upload.js')).toBe(true);
    expect(re.test('dist/functions/submissionBlob.js.map')).toBe(false);
    expect(re.test('dist/lib/config.js')).toBe(false);
  });

  it('compiles route templates with constraints, optional and catch-all parameters', () => {
    const r = compileRoute('submissions/{id:int}/{part?}');
    expect(r.params).toEqual(['id', 'part']);
    expect(r.regex.exec('submissions/12')?.slice(1)).toEqual(['12', undefined]);
    expect(r.regex.exec('Submissions/12/report')?.slice(1)).toEqual(['12', 'report']);
    expect(r.regex.test('submissions/abc')).toBe(false);
    expect(compileRoute('files/{*rest}').regex.exec('files/a/b')?.[1]).toBe('a/b');
  });

  it('binds blob path parameters, dots and folders included', () => {
    const p = compileBlobPattern('{name}.zip');
    expect(p.regex.exec('team/app.v2.zip')?.[1]).toBe('team/app.v2');
    expect(p.regex.test('app.zip.txt')).toBe(false);
  });

  it('numbers actions depth-first through Task.all and Task.any, as the library counts tasks', () => {
    const flat = flattenActions([
      [
        { actionType: 0, functionName: 'a' },
        {
          actionType: 12,
          compoundActions: [
            { actionType: 0, functionName: 'b' },
            {
              actionType: 11,
              compoundActions: [
                { actionType: 5, fireAt: 'x' },
                { actionType: 6, externalEventName: 'E' },
              ],
            },
          ],
        },
      ],
    ]);
    expect(flat.map((a) => a.functionName ?? a.externalEventName ?? a.actionType)).toEqual(['a', 'b', 5, 'E']);
  });

  it('runs the virtual clock N times faster and never backwards', () => {
    const clock = new VirtualClock(1000);
    const t0 = clock.now();
    expect(clock.realDelayUntil(t0 + 60_000)).toBeLessThanOrEqual(60);
    clock.advanceTo(t0 + 3_600_000);
    expect(clock.now()).toBeGreaterThanOrEqual(t0 + 3_600_000);
    clock.advanceTo(t0);
    expect(clock.now()).toBeGreaterThanOrEqual(t0 + 3_600_000);
  });

  it('redacts credentials from log text', () => {
    const line = redact(
      'GET https://a.blob.core.windows.net/c/b?sv=2024&sig=abc%2Bdef&se=1 with Authorization: Bearer eyJ0eXAi.x.y and AccountKey=Zm9v==;EndpointSuffix=x',
    );
    expect(line).not.toMatch(/abc%2Bdef|eyJ0eXAi|Zm9v/);
    expect(line).toContain('sig=REDACTED');
  });
});
