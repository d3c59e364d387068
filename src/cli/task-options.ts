/** Shared by `tasks`, `eval` (and `search`): the task registry, with a user's tasks module when given. */
import { TaskDefinitionError, registryWithModule } from '../tasks/define.js';
import type { TaskRegistry } from '../tasks/registry.js';
import { UserError } from './errors.js';

export async function taskRegistry(tasksModule: string | undefined): Promise<TaskRegistry> {
  try {
    return await registryWithModule(tasksModule);
  } catch (e) {
    if (e instanceof TaskDefinitionError) throw new UserError(e.message);
    throw new UserError(`tasks module ${tasksModule}: ${String((e as Error)?.message ?? e).split('\n')[0]}`);
  }
}
