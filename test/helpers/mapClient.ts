import type { DurableStatus, RunsClient } from '../../lib/runClient';

/**
 * A Durable client stand-in that keeps instances in a map, for the start and cancel decisions of
 * lib/runClient.ts (unit and integration tiers); the Durable client itself is exercised end to end.
 */
export class MapClient implements RunsClient {
  readonly started: string[] = [];
  readonly instances = new Map<string, DurableStatus>();
  async startNew(_name: string, options: { instanceId: string; input: unknown }): Promise<string> {
    if (this.instances.has(options.instanceId)) throw new Error('An instance with this id already exists');
    this.started.push(options.instanceId);
    this.instances.set(options.instanceId, {
      instanceId: options.instanceId,
      runtimeStatus: 'Running',
      input: options.input,
    });
    return options.instanceId;
  }
  async getStatus(instanceId: string): Promise<DurableStatus> {
    const found = this.instances.get(instanceId);
    if (!found) throw new Error('DurableClient error: Durable Functions extension replied with HTTP 404 response.');
    return found;
  }
}
