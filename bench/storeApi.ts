/**
 * The few Store API calls the benchmarks make themselves (to the emulator), over fetch with a
 * token from the emulator's token endpoint. Errors carry status and Store code, never a URL.
 */
import { fetchToken, type RunningEmulator } from '../sandbox/emulator';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = any;

export class BenchStoreApi {
  private constructor(
    private readonly emulator: RunningEmulator,
    private readonly token: string,
  ) {}

  static async connect(emulator: RunningEmulator): Promise<BenchStoreApi> {
    return new BenchStoreApi(emulator, await fetchToken(emulator));
  }

  async call(method: string, path: string, body?: unknown): Promise<{ status: number; body: Json }> {
    const res = await fetch(`${this.emulator.apiBaseUrl}${path}`, {
      method,
      headers: {
        Authorization: `Bearer ${this.token}`,
        ...(body === undefined ? {} : { 'Content-Type': 'application/json; charset=utf-8' }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    let parsed: Json;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      parsed = undefined;
    }
    return { status: res.status, body: parsed };
  }

  private async ok(method: string, path: string, body?: unknown): Promise<Json> {
    const r = await this.call(method, path, body);
    if (r.status >= 300)
      throw new Error(`${method} ${path.replace(/\?.*/, '')}: ${r.status} ${r.body?.code ?? ''}`.trim());
    return r.body;
  }

  /** A new pending submission of the app (any pending one is deleted first). */
  async newSubmission(applicationId: string): Promise<{ id: string; fileUploadUrl: string }> {
    const app = await this.ok('GET', `applications/${applicationId}`);
    const pending = app?.pendingApplicationSubmission?.id as string | undefined;
    if (pending) await this.ok('DELETE', `applications/${applicationId}/submissions/${pending}`);
    const created = await this.ok('POST', `applications/${applicationId}/submissions`);
    return { id: String(created.id), fileUploadUrl: String(created.fileUploadUrl) };
  }

  async commit(applicationId: string, submissionId: string): Promise<string> {
    const r = await this.ok('POST', `applications/${applicationId}/submissions/${submissionId}/commit`);
    return String(r?.status);
  }

  async status(applicationId: string, submissionId: string): Promise<string> {
    const r = await this.ok('GET', `applications/${applicationId}/submissions/${submissionId}/status`);
    return String(r?.status);
  }
}
